// SPDX-License-Identifier: Apache-2.0
#include "model_fields.h"

#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QMenu>
#include <QPushButton>

namespace {

QString tr(const char* text) {
    return QCoreApplication::translate("ModelFields", text);
}

}  // namespace

QHBoxLayout* modelPathRow(QLineEdit* edit, QWidget* parent) {
    auto* browse = new QPushButton(tr("Browse…"), parent);
    auto* menu = new QMenu(browse);
    menu->addAction(tr("Model folder…"), parent, [edit, parent] {
        const QString dir =
            QFileDialog::getExistingDirectory(parent, tr("Model folder"), edit->text());
        if (!dir.isEmpty())
            edit->setText(QDir::toNativeSeparators(dir));
    });
    menu->addAction(tr("GGUF file…"), parent, [edit, parent] {
        const QString file = QFileDialog::getOpenFileName(parent, tr("GGUF model file"),
                                                          edit->text(), tr("GGUF models (*.gguf)"));
        if (!file.isEmpty())
            edit->setText(QDir::toNativeSeparators(file));
    });
    browse->setMenu(menu);
    auto* row = new QHBoxLayout();
    row->addWidget(edit);
    row->addWidget(browse);
    return row;
}

QString modelPathProblem(const QString& path) {
    const QFileInfo info(path);
    if (info.isDir()) {
        if (!QFileInfo::exists(QDir(path).filePath(QStringLiteral("config.json"))))
            return tr("%1 has no config.json: it is not a model folder.").arg(path);
        return {};
    }
    if (!info.exists())
        return tr("%1 does not exist.").arg(path);
    if (!info.isFile() || !path.endsWith(QLatin1String(".gguf"), Qt::CaseInsensitive))
        return tr("%1 is not a model folder or a .gguf file.").arg(path);
    return {};
}

void addWeightTypes(QComboBox* box) {
    box->addItem(tr("q8_0 (8.5 bits: close to bf16 at about half the bytes)"),
                 QStringLiteral("q8_0"));
    box->addItem(tr("q4_0 (4.5 bits: the fewest bytes, some quality loss)"),
                 QStringLiteral("q4_0"));
    box->addItem(tr("bf16 (16 bits)"), QStringLiteral("bf16"));
    box->addItem(tr("f16 (16 bits)"), QStringLiteral("f16"));
}
