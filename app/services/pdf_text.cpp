// SPDX-License-Identifier: Apache-2.0
#include "services/pdf_text.h"

#include <algorithm>

#include <QFileInfo>

#ifdef GRIFFIN_HAVE_QTPDF
#include <QPdfDocument>
#include <QPdfSelection>
#endif

bool pdfSupported() {
#ifdef GRIFFIN_HAVE_QTPDF
    return true;
#else
    return false;
#endif
}

griffin::Result<PdfText> extractPdfText(const QString& file) {
    const std::string name = file.toStdString();
    if (!QFileInfo::exists(file))
        return griffin::makeError(griffin::ErrorCode::NotFound, name + ": no such file");
#ifdef GRIFFIN_HAVE_QTPDF
    QPdfDocument pdf;
    switch (pdf.load(file)) {
        case QPdfDocument::Error::None:
            break;
        case QPdfDocument::Error::IncorrectPassword:
        case QPdfDocument::Error::UnsupportedSecurityScheme:
            return griffin::makeError(griffin::ErrorCode::Unsupported,
                                      name +
                                          ": the PDF is encrypted (password protected); "
                                          "save an unprotected copy to summarise it");
        case QPdfDocument::Error::InvalidFileFormat:
            return griffin::makeError(griffin::ErrorCode::Corrupt,
                                      name + ": not a readable PDF file (damaged or not a PDF)");
        default:
            return griffin::makeError(griffin::ErrorCode::Io, name + ": the PDF could not be read");
    }
    PdfText out;
    out.pages = pdf.pageCount();
    int line = 1;
    qsizetype visible = 0;
    for (int page = 0; page < out.pages; ++page) {
        QString text = pdf.getAllText(page).text();
        text.replace(QStringLiteral("\r\n"), QStringLiteral("\n"));
        text.replace(QLatin1Char('\r'), QLatin1Char('\n'));
        if (page > 0) {
            out.text += QStringLiteral("\n\n");
            line += 2;
        }
        out.pageFirstLine.push_back(line);
        out.text += text;
        line += static_cast<int>(text.count(QLatin1Char('\n')));
        for (QChar c : text) visible += c.isLetterOrNumber() ? 1 : 0;
    }
    if (visible == 0) {
        return griffin::makeError(
            griffin::ErrorCode::Unsupported,
            name + ": the PDF has no text layer (" + std::to_string(out.pages) +
                " pages of images, probably scanned); run it through OCR first");
    }
    return out;
#else
    return griffin::makeError(griffin::ErrorCode::Unsupported,
                              name + ": this build has no PDF support (Qt PDF was not found)");
#endif
}

int pageOfLine(const PdfText& pdf, qint64 line) {
    const auto it = std::upper_bound(pdf.pageFirstLine.begin(), pdf.pageFirstLine.end(), line);
    return std::max(1, static_cast<int>(it - pdf.pageFirstLine.begin()));
}
