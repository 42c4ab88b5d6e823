// SPDX-License-Identifier: Apache-2.0
// Tools → Convert a model: a model folder or .gguf file into one GGUF file with its matrices in
// q8_0, q4_0, bf16 or f16 (what `griffin quantize` does), with progress and Stop. Chatting goes
// on meanwhile (ConvertJob runs on its own thread). When done, "Open it" loads the new file.
#pragma once

#include <memory>

#include <QDialog>

#include "services/convert_job.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;

class ConvertDialog : public QDialog {
    Q_OBJECT

public:
    explicit ConvertDialog(QWidget* parent = nullptr);
    ~ConvertDialog() override;

    // The model to convert; also proposes the output <folder or file name>-<type>.gguf beside it.
    void setSource(const QString& path);
    bool running() const { return m_job != nullptr; }
    // Why Convert cannot start with the current input, or empty.
    QString problem() const;

    // For tests.
    QLineEdit* sourceEdit() const { return m_source; }
    QComboBox* typeBox() const { return m_type; }
    QLineEdit* outputEdit() const { return m_output; }
    QPushButton* convertButton() const { return m_convert; }
    QPushButton* stopButton() const { return m_stop; }
    QPushButton* openButton() const { return m_open; }
    QProgressBar* progressBar() const { return m_progress; }
    QLabel* statusLabel() const { return m_status; }

public slots:
    // Starts the conversion (asks first when the output file exists).
    void convert();

signals:
    // "Open it": load the converted file.
    void openModel(const QString& path);
    void conversionFinished(const ConvertOutcome& outcome);

protected:
    void reject() override;

private:
    void proposeOutput();
    void validate();
    void onFinished(const ConvertOutcome& outcome);

    QLineEdit* m_source;
    QComboBox* m_type;
    QLineEdit* m_output;
    QProgressBar* m_progress;
    QLabel* m_status;
    QPushButton* m_convert;
    QPushButton* m_stop;
    QPushButton* m_open;
    QPushButton* m_close;
    std::unique_ptr<ConvertJob> m_job;
    QString m_proposed;  // the last output name proposed (replaced when the source or type changes)
    QString m_written;   // the last file written
    bool m_outcomeShown = false;  // the status shows the last outcome (until the choices change)
};
