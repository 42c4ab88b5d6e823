// SPDX-License-Identifier: Apache-2.0
// The pieces of a form that names a model, shared by Settings and Tools → Convert a model: a path
// field with Browse (a model folder or a GGUF file), the check of such a path, and the matrix
// types offered.
#pragma once

#include <QString>

class QComboBox;
class QHBoxLayout;
class QLineEdit;
class QWidget;

// `edit` beside a Browse… button whose menu picks a model folder or a .gguf file into it.
QHBoxLayout* modelPathRow(QLineEdit* edit, QWidget* parent);
// Why `path` is not a model folder (with config.json) or a .gguf file, in plain words; empty
// when it is one.
QString modelPathProblem(const QString& path);
// Adds q8_0, q4_0, bf16 and f16, each with what it trades, as items whose data is the type name.
void addWeightTypes(QComboBox* box);
