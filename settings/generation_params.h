// SPDX-License-Identifier: Apache-2.0
// GenerationParams: the sampling parameters of a conversation, defaulted from the settings.
#pragma once

#include <QMetaType>
#include <QtGlobal>

struct GenerationParams {
    double temperature = 0.8;
    int topK = 64;
    double topP = 0.95;
    double minP = 0.0;
    double repeatPenalty = 1.0;
    int maxTokens = 512;
    qint64 seed = 0;  // 0 = a fresh random seed for every reply (the one used is recorded)

    bool operator==(const GenerationParams&) const = default;
};

Q_DECLARE_METATYPE(GenerationParams)
