// SPDX-License-Identifier: Apache-2.0
// The prompt lab: a window for prompt experiments. A prompt (chat template or raw completion)
// with its live token count and token view; up to four variants (parameter sets) run one after
// another and shown side by side, each token clickable for its probability and top-10
// alternatives, a heat map by probability and branching at any token; perplexity of a pasted
// text; the run history with exact re-runs; parameter presets. Talks to a LabWorker on the
// engine thread through queued calls only.
#pragma once

#include <functional>
#include <optional>
#include <stop_token>

#include <QPointer>
#include <QWidget>

#include "services/lab.h"

class LabVariantColumn;

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QTabWidget;
class QTextBrowser;
class QTimer;
class QHBoxLayout;

class PromptLabWindow : public QWidget {
    Q_OBJECT

public:
    // `worker` lives on the engine thread; the files hold the history and the user presets.
    PromptLabWindow(LabWorker* worker, QString historyFile, QString presetsFile,
                    QWidget* parent = nullptr);
    ~PromptLabWindow() override;

    // For tests and the smoke path.
    QPlainTextEdit* promptEditor() const { return m_prompt; }
    QLabel* tokenCountLabel() const { return m_tokenCount; }
    QTextBrowser* tokenView() const { return m_tokenView; }
    QPushButton* runButton() const { return m_run; }
    QPushButton* addVariantButton() const { return m_addVariant; }
    QComboBox* modeBox() const { return m_mode; }
    QCheckBox* heatMapBox() const { return m_heatMap; }
    const QVector<LabVariantColumn*>& columns() const { return m_columns; }
    QListWidget* historyList() const { return m_history; }
    QPlainTextEdit* perplexityEditor() const { return m_pplText; }
    QPushButton* perplexityButton() const { return m_pplScore; }
    QLabel* perplexityResult() const { return m_pplResult; }
    QTabWidget* tabs() const { return m_tabs; }
    bool busy() const { return m_current.has_value() || !m_queue.isEmpty(); }
    const LabHistory& history() const { return m_historyStore; }

public slots:
    void runAll();
    void stop();
    void rerunSelected();
    void addVariant();

private:
    struct Pending {
        LabVariantColumn* column;
        LabRequest request;
    };
    LabRun inputsFor(LabVariantColumn* column) const;
    void startNext();
    void onFinished(const LabRun& run);
    void onTokenized(quint64 id, const QVector<LabTokenPiece>& pieces);
    void onScored(quint64 id, const LabScore& score, const QString& error);
    void branch(LabVariantColumn* column, const LabRun& parent, int index, int tokenId);
    void refreshHistory();
    void requestTokenCount();
    void savePreset(const LabParams& params);
    void updateButtons();

    QPointer<LabWorker> m_worker;
    QString m_presetsFile;
    LabHistory m_historyStore;
    QVector<LabPreset> m_presets;

    QTabWidget* m_tabs;
    QComboBox* m_mode;
    QLineEdit* m_system;
    QPlainTextEdit* m_prompt;
    QLabel* m_tokenCount;
    QPushButton* m_showTokens;
    QTextBrowser* m_tokenView;
    QHBoxLayout* m_columnsLayout;
    QVector<LabVariantColumn*> m_columns;
    QPushButton* m_addVariant;
    QPushButton* m_run;
    QPushButton* m_stop;
    QCheckBox* m_heatMap;
    QLabel* m_status;
    QTimer* m_tokenTimer;
    quint64 m_tokenizeId = 0;

    QPlainTextEdit* m_pplText;
    QPushButton* m_pplScore;
    QLabel* m_pplResult;
    QTextBrowser* m_pplView;
    quint64 m_scoreId = 0;
    std::optional<std::stop_source> m_scoreStop;

    QListWidget* m_history;

    QVector<Pending> m_queue;
    std::optional<Pending> m_current;
    std::stop_source m_stopSource;
};
