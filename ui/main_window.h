// SPDX-License-Identifier: Apache-2.0
// MainWindow: the conversation list, the chat, the parameters panel and the status bar, and the
// controller that turns user actions into requests to the EngineWorker and StoreWriter.
#pragma once

#include <memory>
#include <optional>
#include <stop_token>

#include <QMainWindow>
#include <QVector>

#include "app_settings.h"
#include "services/conversation.h"
#include "services/engine_worker.h"

class ChatView;
class ConversationFilter;
class ConversationListModel;
class MessageInput;
class ParametersPanel;
class QLabel;
class QLineEdit;
class QListView;
class QProgressDialog;
class QPushButton;
class QMenu;
class QTimer;
class ServiceRuntime;
namespace spdlog {
class logger;
}

class MainWindow : public QMainWindow {
    Q_OBJECT

public:
    MainWindow(ServiceRuntime& runtime, AppSettings settings, QString settingsPath,
               QVector<Conversation> conversations, QWidget* parent = nullptr);
    ~MainWindow() override;

    // Opens (or raises) the prompt lab window (Tools → Prompt lab, Ctrl+L).
    class PromptLabWindow* openPromptLab();
    // Shows another version of the current conversation from message `index` on (‹ / ›).
    void showVersion(int index, int version);
    // Opens (or raises) the summarise window (Tools → Summarise a document, Ctrl+Shift+M).
    class SummarizeWindow* openSummarizer();
    // Opens (or raises) Tools → Convert a model to GGUF, with the loaded model as the source.
    class ConvertDialog* openConverter();

    // State, for the smoke test and UI tests.
    bool isModelLoaded() const { return m_model.has_value(); }
    bool isGenerating() const { return m_activeId.has_value(); }
    QString currentConversationId() const { return m_currentId; }
    const Conversation* currentConversation() const;
    ConversationListModel* conversationModel() const { return m_conversations; }
    const AppSettings& settings() const { return m_settings; }

public slots:
    void loadModel(const QString& path);
    void newConversation();
    void selectConversation(const QString& id);
    // Sends the input box's text (the Send button, Enter, and the smoke test all come here).
    void sendMessage();
    void stopGeneration();
    void regenerate();
    void startEdit(int messageIndex);
    void deleteCurrentConversation();
    void undoDelete();
    void renameCurrentConversation();
    void copyLastReply();
    void openModelDialog();
    void openGgufDialog();
    void openSettingsDialog();
    // Asks for a file and writes the open conversation as Markdown or JSON.
    void exportCurrent(bool markdown);
    void importJson();

signals:
    // Emitted once a model is ready (or failed: modelLoadFailed).
    void modelReady();
    void modelLoadFailed(const QString& message);
    void replyFinished(const QString& conversationId);
    void errorShown(const QString& message);

    // To the services (queued across threads).
    // `weights` and `threads` as in AppSettings (see EngineWorker::loadModel).
    void inspectModelRequested(const QString& path, const QString& weights);
    void findDevicesRequested();
    void loadModelRequested(const QString& path, const QString& backend, std::stop_token stop,
                            const QString& weights, int threads);
    void generateRequested(const GenerationRequest& request);
    void forgetRequested(const QString& conversationId);
    void saveRequested(const Conversation& conversation);
    void removeRequested(const QString& conversationId);
    void safetySettingsChanged(const SafetySettings& settings);

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void buildUi();
    void buildMenus();
    void connectServices(ServiceRuntime& runtime);
    void showConversation(const Conversation& conversation);
    void updateActions();
    void updateStatus();
    void showError(const QString& message);
    void clearError();
    void startGeneration(Conversation& conversation);
    void commit(Conversation conversation, bool save = true);
    void rebuildRecentMenu();
    void applyAppearance();
    Conversation* mutableCurrent();
    void inspectModel(const QString& path);
    static std::shared_ptr<spdlog::logger> log();

    // Worker events.
    void onModelLoaded(const ModelSummary& summary);
    void onModelFailed(const QString& message);
    void onInspected(const QString& path, const QString& description, qint64 weightBytes,
                     qint64 stateBytes);
    void onTokens(const QString& id, const QString& text);
    void onPrefill(const QString& id, qint64 done, qint64 total);
    void onFinished(const QString& id, const QString& text, const MessageStats& stats,
                    const std::vector<int32_t>& tokens, const QStringList& safety);
    void onFailed(const QString& id, const QString& message);
    void onInputFiltered(const QString& id, bool refused, const QStringList& safety);

    AppSettings m_settings;
    QString m_settingsPath;
    ConversationListModel* m_conversations;
    ConversationFilter* m_filter;
    QString m_currentId;
    std::optional<ModelSummary> m_model;
    QString m_loadingPath;

    // The reply being generated (at most one at a time).
    std::optional<QString> m_activeId;
    QString m_streamText;
    std::stop_source m_stop;
    std::stop_source m_loadStop;
    std::optional<int> m_editIndex;
    QVector<Conversation> m_deleted;  // undo stack
    std::optional<MessageStats> m_lastStats;
    QStringList m_deviceLabels, m_deviceValues;  // Vulkan devices found by the worker

    QLineEdit* m_search;
    QListView* m_list;
    ChatView* m_chat;
    MessageInput* m_input;
    QPushButton* m_send;
    QPushButton* m_stopButton;
    QPushButton* m_regenerate;
    QLabel* m_error;
    QLabel* m_editBanner;
    QLabel* m_safetyOff = nullptr;
    ParametersPanel* m_parameters;
    QLabel* m_statusModel;
    QLabel* m_statusBackend;
    QLabel* m_statusWeights;
    QLabel* m_statusMemory;
    QLabel* m_statusSpeed;
    QProgressDialog* m_loadProgress = nullptr;
    QMenu* m_recentMenu = nullptr;
    QTimer* m_streamSave;
    QAction* m_undoDelete = nullptr;
    class LabWorker* m_labWorker = nullptr;  // on the engine thread, beside EngineWorker
    class PromptLabWindow* m_lab = nullptr;
    // Older versions of the reply being regenerated, attached to the new reply.
    std::vector<std::vector<ChatMessageData>> m_replyVersions;
    class SummarizeWorker* m_summarizeWorker = nullptr;  // on the engine thread
    class SummarizeWindow* m_summarizer = nullptr;
    class ConvertDialog* m_converter = nullptr;
};
