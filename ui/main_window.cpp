// SPDX-License-Identifier: Apache-2.0
#include "main_window.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QDesktopServices>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressDialog>
#include <QPushButton>
#include <QSplitter>
#include <QStandardPaths>
#include <QStatusBar>
#include <QStyleFactory>
#include <QThread>
#include <QTimer>
#include <QUrl>
#include <QUuid>
#include <QVBoxLayout>
#include <spdlog/spdlog.h>

#include "atomic_file.h"
#include "chat_view.h"
#include "conversation_list_model.h"
#include "message_input.h"
#include "message_widget.h"
#include "parameters_panel.h"
#include "prompt_lab_window.h"
#include "services/runtime.h"
#include "settings_dialog.h"
#include "summarize_window.h"

MainWindow::MainWindow(ServiceRuntime& runtime, AppSettings settings, QString settingsPath,
                       QVector<Conversation> conversations, QWidget* parent)
    : QMainWindow(parent),
      m_settings(std::move(settings)),
      m_settingsPath(std::move(settingsPath)) {
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(tr("Griffin Chat"));
    setMinimumSize(800, 600);
    resize(1180, 780);
    m_conversations = new ConversationListModel(this);
    m_conversations->setConversations(std::move(conversations));
    m_filter = new ConversationFilter(this);
    m_filter->setSourceModel(m_conversations);
    m_streamSave = new QTimer(this);
    m_streamSave->setInterval(3000);  // save a streaming reply at most every 3 s, never per token
    buildUi();
    buildMenus();
    connectServices(runtime);
    emit safetySettingsChanged(m_settings.safety);
    applyAppearance();
    emit findDevicesRequested();
    if (m_conversations->rowCount() > 0) {
        selectConversation(m_filter->index(0, 0).data(ConversationListModel::IdRole).toString());
    } else {
        newConversation();
    }
    updateActions();
    updateStatus();
}

MainWindow::~MainWindow() {
    m_stop.request_stop();
    m_loadStop.request_stop();
}

void MainWindow::buildUi() {
    auto* splitter = new QSplitter(this);
    splitter->setObjectName(QStringLiteral("mainSplitter"));

    auto* left = new QWidget(splitter);
    auto* leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(4, 4, 4, 4);
    auto* newButton = new QPushButton(tr("New conversation"), left);
    newButton->setObjectName(QStringLiteral("newConversationButton"));
    connect(newButton, &QPushButton::clicked, this, &MainWindow::newConversation);
    m_search = new QLineEdit(left);
    m_search->setObjectName(QStringLiteral("searchField"));
    m_search->setPlaceholderText(tr("Search conversations (Ctrl+F)"));
    m_search->setAccessibleName(tr("Search conversations"));
    m_search->setClearButtonEnabled(true);
    connect(m_search, &QLineEdit::textChanged, m_filter, &ConversationFilter::setSearch);
    m_list = new QListView(left);
    m_list->setObjectName(QStringLiteral("conversationList"));
    m_list->setAccessibleName(tr("Conversations"));
    m_list->setModel(m_filter);
    m_list->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_list->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_list->setTextElideMode(Qt::ElideRight);
    m_list->setUniformItemSizes(true);
    connect(m_list->selectionModel(), &QItemSelectionModel::currentChanged, this,
            [this](const QModelIndex& index) {
                if (index.isValid()) {
                    selectConversation(index.data(ConversationListModel::IdRole).toString());
                }
            });
    leftLayout->addWidget(newButton);
    leftLayout->addWidget(m_search);
    leftLayout->addWidget(m_list);
    left->setMinimumWidth(180);

    auto* center = new QWidget(splitter);
    auto* centerLayout = new QVBoxLayout(center);
    centerLayout->setContentsMargins(4, 4, 4, 4);
    m_chat = new ChatView(center);
    connect(m_chat, &ChatView::editRequested, this, &MainWindow::startEdit);
    connect(m_chat, &ChatView::versionRequested, this, &MainWindow::showVersion);
    m_error = new QLabel(center);
    m_error->setObjectName(QStringLiteral("errorBanner"));
    m_error->setWordWrap(true);
    m_error->setStyleSheet(QStringLiteral("background: #fdecea; color: #611a15; padding: 6px"));
    m_error->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_error->hide();
    m_editBanner = new QLabel(center);
    m_editBanner->setObjectName(QStringLiteral("editBanner"));
    m_editBanner->hide();
    // The conversation's header line while its safety filters are off.
    m_safetyOff = new QLabel(tr("Safety filters are off for this conversation (turn them on in "
                                "the panel on the right)."),
                             center);
    m_safetyOff->setObjectName(QStringLiteral("safetyOffBanner"));
    m_safetyOff->setWordWrap(true);
    m_safetyOff->setStyleSheet(QStringLiteral("background: #fff4e5; color: #663c00; padding: 4px"));
    m_safetyOff->setAccessibleName(tr("Safety filters are off"));
    m_safetyOff->hide();
    m_input = new MessageInput(center);
    m_input->setMaximumHeight(120);
    connect(m_input, &MessageInput::sendRequested, this, &MainWindow::sendMessage);
    connect(m_input, &MessageInput::stopRequested, this, [this] {
        if (isGenerating()) {
            stopGeneration();
        } else if (m_editIndex) {
            m_editIndex.reset();
            m_input->clear();
            updateActions();
        }
    });
    m_send = new QPushButton(tr("Send"), center);
    m_send->setObjectName(QStringLiteral("sendButton"));
    m_send->setDefault(true);
    connect(m_send, &QPushButton::clicked, this, &MainWindow::sendMessage);
    m_stopButton = new QPushButton(tr("Stop"), center);
    m_stopButton->setObjectName(QStringLiteral("stopButton"));
    m_stopButton->setToolTip(tr("Stop the reply (Esc)"));
    connect(m_stopButton, &QPushButton::clicked, this, &MainWindow::stopGeneration);
    m_regenerate = new QPushButton(tr("Regenerate"), center);
    m_regenerate->setObjectName(QStringLiteral("regenerateButton"));
    connect(m_regenerate, &QPushButton::clicked, this, &MainWindow::regenerate);
    auto* buttons = new QHBoxLayout();
    buttons->addWidget(m_regenerate);
    buttons->addStretch();
    buttons->addWidget(m_stopButton);
    buttons->addWidget(m_send);
    centerLayout->addWidget(m_safetyOff);
    centerLayout->addWidget(m_chat, 1);
    centerLayout->addWidget(m_error);
    centerLayout->addWidget(m_editBanner);
    centerLayout->addWidget(m_input);
    centerLayout->addLayout(buttons);
    center->setMinimumWidth(400);

    m_parameters = new ParametersPanel(splitter);
    m_parameters->setMinimumWidth(200);
    connect(m_parameters, &ParametersPanel::edited, this, [this] {
        if (Conversation* c = mutableCurrent()) {
            c->systemPrompt = m_parameters->systemPrompt();
            c->params = m_parameters->params();
            c->safetyEnabled = m_parameters->safetyEnabled();
            m_safetyOff->setVisible(!c->safetyEnabled);
            commit(*c);
        }
    });
    splitter->addWidget(left);
    splitter->addWidget(center);
    splitter->addWidget(m_parameters);
    splitter->setStretchFactor(1, 1);
    splitter->setSizes({230, 680, 260});
    setCentralWidget(splitter);

    m_statusModel = new QLabel(this);
    m_statusModel->setObjectName(QStringLiteral("statusModel"));
    m_statusBackend = new QLabel(this);
    m_statusBackend->setObjectName(QStringLiteral("statusBackend"));
    m_statusWeights = new QLabel(this);
    m_statusWeights->setObjectName(QStringLiteral("statusWeights"));
    m_statusMemory = new QLabel(this);
    m_statusSpeed = new QLabel(this);
    m_statusSpeed->setObjectName(QStringLiteral("statusSpeed"));
    statusBar()->addPermanentWidget(m_statusModel);
    statusBar()->addPermanentWidget(m_statusBackend);
    statusBar()->addPermanentWidget(m_statusWeights);
    statusBar()->addPermanentWidget(m_statusMemory);
    statusBar()->addPermanentWidget(m_statusSpeed);
    connect(m_streamSave, &QTimer::timeout, this, [this] {
        if (!m_activeId)
            return;
        if (const Conversation* c = m_conversations->find(*m_activeId)) {
            Conversation copy = *c;
            if (!copy.messages.isEmpty())
                copy.messages.back().text = m_streamText;
            emit saveRequested(copy);
        }
    });
}

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* newAction =
        file->addAction(tr("&New conversation"), this, &MainWindow::newConversation);
    newAction->setShortcut(QKeySequence::New);
    file->addAction(tr("&Open model folder…"), this, &MainWindow::openModelDialog)
        ->setShortcut(QKeySequence::Open);
    file->addAction(tr("Open &GGUF model file…"), this, &MainWindow::openGgufDialog);
    m_recentMenu = file->addMenu(tr("Recent models"));
    rebuildRecentMenu();
    file->addAction(tr("Use the &demo model"), this, [this] { loadModel(QString()); });
    file->addSeparator();
    file->addAction(tr("&Import conversation (JSON)…"), this, &MainWindow::importJson);
    file->addAction(tr("Export as &Markdown…"), this, [this] { exportCurrent(true); });
    file->addAction(tr("Export as &JSON…"), this, [this] { exportCurrent(false); });
    file->addSeparator();
    file->addAction(tr("Open &log folder"), this, [] {
        QDesktopServices::openUrl(
            QUrl::fromLocalFile(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) +
                                QStringLiteral("/logs")));
    });
    file->addSeparator();
    file->addAction(tr("&Quit"), this, &QWidget::close)->setShortcut(QKeySequence::Quit);

    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    edit->addAction(tr("Copy last reply"), this, &MainWindow::copyLastReply)
        ->setShortcut(QKeySequence(QStringLiteral("Ctrl+Shift+C")));
    edit->addAction(tr("Find conversation"), this,
                    [this] {
                        m_search->setFocus();
                        m_search->selectAll();
                    })
        ->setShortcut(QKeySequence::Find);
    edit->addSeparator();
    edit->addAction(tr("Settings…"), this, &MainWindow::openSettingsDialog)
        ->setShortcut(QKeySequence(QStringLiteral("Ctrl+,")));

    QMenu* conversation = menuBar()->addMenu(tr("&Conversation"));
    conversation->addAction(tr("Rename…"), this, &MainWindow::renameCurrentConversation)
        ->setShortcut(QKeySequence(Qt::Key_F2));
    conversation->addAction(tr("Regenerate last reply"), this, &MainWindow::regenerate)
        ->setShortcut(QKeySequence(QStringLiteral("Ctrl+R")));
    conversation->addAction(tr("Stop"), this, &MainWindow::stopGeneration);
    conversation->addSeparator();
    conversation->addAction(tr("Delete"), this, &MainWindow::deleteCurrentConversation)
        ->setShortcut(QKeySequence(QStringLiteral("Ctrl+Shift+Delete")));
    m_undoDelete = conversation->addAction(tr("Undo delete"), this, &MainWindow::undoDelete);
    m_undoDelete->setShortcut(QKeySequence::Undo);
    m_undoDelete->setEnabled(false);

    QMenu* tools = menuBar()->addMenu(tr("&Tools"));
    tools->addAction(tr("&Prompt lab"), this, [this] { openPromptLab(); })
        ->setShortcut(QKeySequence(QStringLiteral("Ctrl+L")));
    tools->addAction(tr("&Summarise a document…"), this, [this] { openSummarizer(); })
        ->setShortcut(QKeySequence(QStringLiteral("Ctrl+Shift+M")));
    tools->addAction(tr("&Convert a model to GGUF…"), this, [this] { openConverter(); });
}

void MainWindow::connectServices(ServiceRuntime& runtime) {
    EngineWorker* w = runtime.worker();
    m_labWorker = new LabWorker(w);
    m_labWorker->moveToThread(w->thread());
    connect(w->thread(), &QThread::finished, m_labWorker, &QObject::deleteLater);
    connect(w, &EngineWorker::modelLoaded, m_labWorker, &LabWorker::forgetTrails);
    m_labWorker->setSnapshotBudget(qint64{m_settings.labSnapshotMiB} << 20);
    m_summarizeWorker =
        new SummarizeWorker(w, QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) +
                                   QStringLiteral("/summaries"));
    m_summarizeWorker->moveToThread(w->thread());
    connect(w->thread(), &QThread::finished, m_summarizeWorker, &QObject::deleteLater);
    connect(this, &MainWindow::inspectModelRequested, w, &EngineWorker::inspectModel);
    connect(this, &MainWindow::findDevicesRequested, w, &EngineWorker::findDevices);
    connect(w, &EngineWorker::devicesFound, this,
            [this](const QStringList& labels, const QStringList& values) {
                m_deviceLabels = labels;
                m_deviceValues = values;
            });
    connect(this, &MainWindow::loadModelRequested, w, &EngineWorker::loadModel);
    connect(this, &MainWindow::generateRequested, w, &EngineWorker::generate);
    connect(this, &MainWindow::forgetRequested, w, &EngineWorker::forgetConversation);
    connect(w, &EngineWorker::modelInspected, this, &MainWindow::onInspected);
    connect(w, &EngineWorker::modelInspectionFailed, this,
            [this](const QString&, const QString& message) { showError(message); });
    connect(w, &EngineWorker::modelLoadProgress, this, [this](double f) {
        if (m_loadProgress != nullptr)
            m_loadProgress->setValue(static_cast<int>(f * 100));
    });
    connect(w, &EngineWorker::modelLoaded, this, &MainWindow::onModelLoaded);
    connect(w, &EngineWorker::modelLoadFailed, this, &MainWindow::onModelFailed);
    connect(w, &EngineWorker::tokensReceived, this, &MainWindow::onTokens);
    connect(w, &EngineWorker::prefillProgress, this, &MainWindow::onPrefill);
    connect(w, &EngineWorker::generationFinished, this, &MainWindow::onFinished);
    connect(w, &EngineWorker::generationFailed, this, &MainWindow::onFailed);
    connect(this, &MainWindow::safetySettingsChanged, w, &EngineWorker::applySafetySettings);
    connect(w, &EngineWorker::inputFiltered, this, &MainWindow::onInputFiltered);
    connect(w, &EngineWorker::safetyProblem, this, &MainWindow::showError);
    StoreWriter* s = runtime.writer();
    connect(this, &MainWindow::saveRequested, s, &StoreWriter::save);
    connect(this, &MainWindow::removeRequested, s, &StoreWriter::remove);
    connect(s, &StoreWriter::failed, this, &MainWindow::showError);
}

// ---- conversations -----------------------------------------------------------------------

Conversation* MainWindow::mutableCurrent() {
    const int row = m_conversations->rowOf(m_currentId);
    if (row < 0)
        return nullptr;
    return const_cast<Conversation*>(&m_conversations->conversations()[row]);
}

const Conversation* MainWindow::currentConversation() const {
    return m_conversations->find(m_currentId);
}

void MainWindow::commit(Conversation conversation, bool save) {
    m_conversations->upsert(conversation);
    if (save && !conversation.messages.isEmpty())
        emit saveRequested(conversation);
}

void MainWindow::newConversation() {
    // Reuse an empty conversation instead of piling them up.
    if (const Conversation* c = currentConversation(); c && c->messages.isEmpty()) {
        m_input->setFocus();
        return;
    }
    Conversation c = Conversation::create(m_settings.sampling, m_settings.systemPrompt);
    commit(c, false);
    selectConversation(c.id);
}

void MainWindow::selectConversation(const QString& id) {
    const Conversation* c = m_conversations->find(id);
    if (c == nullptr)
        return;
    if (id != m_currentId) {
        m_currentId = id;
        m_editIndex.reset();
        showConversation(*c);
    }
    const QModelIndex source = m_conversations->index(m_conversations->rowOf(id));
    const QModelIndex proxy = m_filter->mapFromSource(source);
    if (proxy.isValid() && m_list->currentIndex() != proxy)
        m_list->setCurrentIndex(proxy);
    updateActions();
}

void MainWindow::showConversation(const Conversation& c) {
    m_chat->setMessages(c.messages, c.source);
    if (m_activeId == c.id && m_chat->last() != nullptr) {
        m_chat->last()->setText(m_streamText);
        m_chat->last()->setStreaming(true);
    }
    m_parameters->setValues(c.systemPrompt, c.params);
    m_parameters->setSafetyEnabled(c.safetyEnabled);
    m_safetyOff->setVisible(!c.safetyEnabled);
    setWindowTitle(tr("%1 — Griffin Chat").arg(c.title));
}

void MainWindow::renameCurrentConversation() {
    Conversation* c = mutableCurrent();
    if (c == nullptr)
        return;
    bool ok = false;
    const QString title = QInputDialog::getText(this, tr("Rename conversation"), tr("Title"),
                                                QLineEdit::Normal, c->title, &ok)
                              .trimmed();
    if (!ok || title.isEmpty())
        return;
    c->title = title;
    commit(*c);
    setWindowTitle(tr("%1 — Griffin Chat").arg(title));
}

void MainWindow::deleteCurrentConversation() {
    if (m_activeId == m_currentId) {
        showError(tr("Stop the reply before deleting this conversation."));
        return;
    }
    auto taken = m_conversations->take(m_currentId);
    if (!taken)
        return;
    emit removeRequested(taken->id);
    emit forgetRequested(taken->id);
    m_deleted.push_back(*taken);
    m_undoDelete->setEnabled(true);
    statusBar()->showMessage(tr("Deleted “%1” — Ctrl+Z to undo").arg(taken->title), 10000);
    m_currentId.clear();
    if (m_filter->rowCount() > 0) {
        selectConversation(m_filter->index(0, 0).data(ConversationListModel::IdRole).toString());
    } else {
        newConversation();
    }
}

void MainWindow::undoDelete() {
    if (m_deleted.isEmpty())
        return;
    Conversation c = m_deleted.takeLast();
    commit(c);
    selectConversation(c.id);
    m_undoDelete->setEnabled(!m_deleted.isEmpty());
    statusBar()->showMessage(tr("Restored “%1”").arg(c.title), 5000);
}

// ---- clipboard, import, export -----------------------------------------------------------

void MainWindow::copyLastReply() {
    const Conversation* c = currentConversation();
    if (c == nullptr)
        return;
    for (auto it = c->messages.rbegin(); it != c->messages.rend(); ++it) {
        if (it->role == ChatMessageData::Role::Model && !it->text.isEmpty()) {
            QApplication::clipboard()->setText(it->text);
            statusBar()->showMessage(tr("Copied the last reply"), 3000);
            return;
        }
    }
}

void MainWindow::exportCurrent(bool markdown) {
    const Conversation* c = currentConversation();
    if (c == nullptr)
        return;
    const QString file = QFileDialog::getSaveFileName(
        this, markdown ? tr("Export as Markdown") : tr("Export as JSON"),
        c->title + (markdown ? QStringLiteral(".md") : QStringLiteral(".json")),
        markdown ? tr("Markdown (*.md)") : tr("JSON (*.json)"));
    if (file.isEmpty())
        return;
    const QByteArray bytes = markdown ? conversationToMarkdown(*c).toUtf8()
                                      : QByteArray::fromStdString(conversationToJson(*c));
    if (auto s = writeFileAtomically(file, bytes); !s) {
        showError(QString::fromStdString(s.error().message));
    }
}

void MainWindow::importJson() {
    const QString file = QFileDialog::getOpenFileName(this, tr("Import a conversation"), QString(),
                                                      tr("JSON (*.json)"));
    if (file.isEmpty())
        return;
    QFile f(file);
    if (!f.open(QIODevice::ReadOnly) || f.size() > (qint64{256} << 20)) {
        showError(tr("%1 cannot be read.").arg(file));
        return;
    }
    auto c = conversationFromJson(f.readAll().toStdString());
    if (!c) {
        showError(tr("%1 is not a conversation: %2")
                      .arg(file, QString::fromStdString(c.error().message)));
        return;
    }
    if (m_conversations->find(c->id) != nullptr)
        c->id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    commit(*c);
    selectConversation(c->id);
}

// ---- settings and appearance -------------------------------------------------------------

void MainWindow::openSettingsDialog() {
    SettingsDialog dialog(m_settings, m_deviceLabels, m_deviceValues, this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    const AppSettings updated = dialog.settings();
    const bool safetyChanged = updated.safety != m_settings.safety;
    const bool modelChanged =
        updated.modelPath != m_settings.modelPath || updated.backend != m_settings.backend ||
        updated.weights != m_settings.weights || updated.cpuThreads != m_settings.cpuThreads;
    m_settings = updated;
    if (auto s = saveSettings(m_settings, m_settingsPath); !s)
        showError(QString::fromStdString(s.error().message));
    applyAppearance();
    if (safetyChanged)
        emit safetySettingsChanged(m_settings.safety);  // rebuilt on the worker thread
    QMetaObject::invokeMethod(m_labWorker, [w = m_labWorker, mib = m_settings.labSnapshotMiB] {
        w->setSnapshotBudget(qint64{mib} << 20);
    });
    if (modelChanged && !isGenerating())
        loadModel(m_settings.modelPath);
}

void MainWindow::applyAppearance() {
    static const QPalette systemPalette = QApplication::palette();
    if (m_settings.theme == QLatin1String("dark")) {
        QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
        QPalette p;
        p.setColor(QPalette::Window, QColor(45, 45, 48));
        p.setColor(QPalette::WindowText, Qt::white);
        p.setColor(QPalette::Base, QColor(30, 30, 32));
        p.setColor(QPalette::AlternateBase, QColor(50, 54, 62));
        p.setColor(QPalette::Text, Qt::white);
        p.setColor(QPalette::Button, QColor(55, 55, 58));
        p.setColor(QPalette::ButtonText, Qt::white);
        p.setColor(QPalette::Highlight, QColor(42, 130, 218));
        p.setColor(QPalette::HighlightedText, Qt::black);
        p.setColor(QPalette::ToolTipBase, QColor(60, 60, 60));
        p.setColor(QPalette::ToolTipText, Qt::white);
        QApplication::setPalette(p);
    } else if (m_settings.theme == QLatin1String("light")) {
        QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
        QApplication::setPalette(QApplication::style()->standardPalette());
    } else {
        QApplication::setPalette(systemPalette);
    }
    if (m_settings.fontPointSize > 0) {
        QFont f = QApplication::font();
        f.setPointSize(m_settings.fontPointSize);
        QApplication::setFont(f);
    }
}

// ---- status ------------------------------------------------------------------------------

void MainWindow::showError(const QString& message) {
    log()->error("{}", message.toStdString());
    m_error->setText(message);
    m_error->show();
    emit errorShown(message);
}

void MainWindow::clearError() {
    m_error->hide();
}

void MainWindow::updateActions() {
    const Conversation* c = currentConversation();
    const bool busy = isGenerating();
    m_send->setEnabled(!busy && isModelLoaded());
    m_stopButton->setEnabled(busy);
    m_regenerate->setEnabled(!busy && isModelLoaded() && c != nullptr && !c->messages.isEmpty() &&
                             c->messages.back().role == ChatMessageData::Role::Model);
    if (m_editIndex) {
        m_editBanner->setText(
            tr("Editing message %1 — sending replaces the conversation from there "
               "(Esc cancels)")
                .arg(*m_editIndex + 1));
    }
    m_editBanner->setVisible(m_editIndex.has_value());
}

void MainWindow::closeEvent(QCloseEvent* event) {
    m_stop.request_stop();
    m_loadStop.request_stop();
    // A reply in progress is saved as far as it got.
    if (m_activeId) {
        if (const Conversation* c = m_conversations->find(*m_activeId)) {
            Conversation copy = *c;
            if (!copy.messages.isEmpty())
                copy.messages.back().text = m_streamText;
            emit saveRequested(copy);
        }
    }
    event->accept();
}
