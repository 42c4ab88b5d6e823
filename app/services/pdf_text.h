// SPDX-License-Identifier: Apache-2.0
// Text of a PDF file, page by page, through Qt PDF (an optional dependency: without it every PDF
// is refused with a message saying so).
#pragma once

#include <QString>
#include <QVector>

#include "griffin/result.h"

struct PdfText {
    QString text;                // pages joined by a blank line
    QVector<int> pageFirstLine;  // 1-based line of `text` where page i + 1 starts
    int pages = 0;
};

bool pdfSupported();
// Errors name the file: not found, not a PDF, encrypted (password), no text layer (scanned
// images), or no Qt PDF in this build.
griffin::Result<PdfText> extractPdfText(const QString& file);
// The page (1-based) of a 1-based line of PdfText::text.
int pageOfLine(const PdfText& pdf, qint64 line);
