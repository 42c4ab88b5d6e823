// SPDX-License-Identifier: Apache-2.0
#include "settings_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSpinBox>
#include <QTabWidget>
#include <QThread>
#include <QVBoxLayout>

#include "model_fields.h"
#include "parameters_panel.h"
#include "safety_settings_page.h"

SettingsDialog::SettingsDialog(const AppSettings& settings, const QStringList& deviceLabels,
                               const QStringList& deviceValues, QWidget* parent)
    : QDialog(parent), m_original(settings) {
    setObjectName(QStringLiteral("settingsDialog"));
    setWindowTitle(tr("Settings"));
    auto* outer = new QVBoxLayout(this);
    auto* tabs = new QTabWidget(this);
    tabs->setObjectName(QStringLiteral("settingsTabs"));
    auto* general = new QWidget(tabs);
    auto* layout = new QVBoxLayout(general);
    auto* form = new QFormLayout();

    m_modelPath = new QLineEdit(settings.modelPath, this);
    m_modelPath->setObjectName(QStringLiteral("modelPath"));
    m_modelPath->setPlaceholderText(tr("empty = the built-in demo model"));
    m_modelPath->setAccessibleName(tr("Default model"));
    form->addRow(tr("Default model"), modelPathRow(m_modelPath, this));

    m_backend = new QComboBox(this);
    m_backend->setAccessibleName(tr("Backend"));
    m_backend->addItem(tr("Auto"), QStringLiteral("auto"));
    m_backend->addItem(tr("CPU"), QStringLiteral("cpu"));
    m_backend->addItem(tr("Vulkan, best device (first phase: exact but slower)"),
                       QStringLiteral("vulkan"));
    for (qsizetype i = 0; i < std::min(deviceLabels.size(), deviceValues.size()); ++i) {
        m_backend->addItem(deviceLabels[i], deviceValues[i]);
    }
    m_backend->setCurrentIndex(std::max(0, m_backend->findData(settings.backend)));
    form->addRow(tr("Backend"), m_backend);

    m_weights = new QComboBox(this);
    m_weights->setObjectName(QStringLiteral("weights"));
    m_weights->setAccessibleName(tr("Weights"));
    m_weights->addItem(tr("As stored in the model file"), QStringLiteral("stored"));
    addWeightTypes(m_weights);
    m_weights->setCurrentIndex(std::max(0, m_weights->findData(settings.weights)));
    m_weights->setToolTip(
        tr("Decoding reads every weight once per token, so fewer bits per weight means more "
           "tokens per second and less memory. A model stored wider than this type (e.g. a "
           "bf16 Hugging Face folder) is converted while it loads, which takes seconds; a file "
           "already this small or smaller keeps its own type. griffin quantize writes a "
           "converted .gguf once, to skip the conversion."));
    form->addRow(tr("Weights"), m_weights);

    m_threads = new QSpinBox(this);
    m_threads->setObjectName(QStringLiteral("cpuThreads"));
    m_threads->setAccessibleName(tr("CPU threads"));
    m_threads->setRange(0, 1024);
    m_threads->setSpecialValueText(tr("one per core (%1)").arg(QThread::idealThreadCount()));
    m_threads->setValue(settings.cpuThreads);
    m_threads->setToolTip(
        tr("Threads of the CPU backend. The window stays responsive with "
           "every core in use: a thread the system pauses only delays the "
           "others by a small share of the work."));
    form->addRow(tr("CPU threads"), m_threads);

    m_theme = new QComboBox(this);
    m_theme->setAccessibleName(tr("Theme"));
    m_theme->addItem(tr("Follow the system"), QStringLiteral("system"));
    m_theme->addItem(tr("Light"), QStringLiteral("light"));
    m_theme->addItem(tr("Dark"), QStringLiteral("dark"));
    m_theme->setCurrentIndex(std::max(0, m_theme->findData(settings.theme)));
    form->addRow(tr("Theme"), m_theme);

    m_fontSize = new QSpinBox(this);
    m_fontSize->setAccessibleName(tr("Font size"));
    m_fontSize->setRange(0, 48);
    m_fontSize->setSpecialValueText(tr("system"));
    m_fontSize->setValue(settings.fontPointSize);
    form->addRow(tr("Font size (pt)"), m_fontSize);
    m_labMemory = new QSpinBox(this);
    m_labMemory->setAccessibleName(tr("Prompt lab snapshot memory"));
    m_labMemory->setRange(8, 1 << 20);
    m_labMemory->setSuffix(tr(" MiB"));
    m_labMemory->setValue(settings.labSnapshotMiB);
    m_labMemory->setToolTip(
        tr("Memory for the state snapshots the prompt lab keeps along its "
           "runs, so branching at a token does not re-run the prompt"));
    form->addRow(tr("Prompt lab snapshots"), m_labMemory);
    layout->addLayout(form);

    layout->addWidget(new QLabel(tr("<b>Defaults for new conversations</b>"), this));
    m_defaults = new ParametersPanel(this);
    m_defaults->setValues(settings.systemPrompt, settings.sampling);
    m_defaults->setSafetySwitchVisible(false);  // a per-conversation choice, not a default
    layout->addWidget(m_defaults);
    tabs->addTab(general, tr("General"));
    m_safety = new SafetySettingsPage(settings.safety, tabs);
    tabs->addTab(m_safety, tr("Safety"));
    outer->addWidget(tabs);

    m_problem = new QLabel(this);
    m_problem->setObjectName(QStringLiteral("settingsProblem"));
    m_problem->setStyleSheet(QStringLiteral("color: #c0392b"));
    m_problem->setWordWrap(true);
    outer->addWidget(m_problem);
    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    connect(m_buttons, &QDialogButtonBox::accepted, this, [this] {
        QString error;
        if (!m_safety->saveCustomTerms(&error)) {
            QMessageBox::warning(this, tr("Custom terms not saved"), error);
            return;
        }
        accept();
    });
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    outer->addWidget(m_buttons);
    connect(m_modelPath, &QLineEdit::textChanged, this, &SettingsDialog::validate);
    connect(m_safety, &SafetySettingsPage::changed, this, &SettingsDialog::validate);
    connect(m_fontSize, &QSpinBox::valueChanged, this, &SettingsDialog::validate);
    validate();
}

QString SettingsDialog::problem() const {
    const QString path = m_modelPath->text().trimmed();
    if (!path.isEmpty() && path != QLatin1String("default")) {
        if (const QString p = modelPathProblem(path); !p.isEmpty())
            return tr("Default model: %1").arg(p);
    }
    if (m_fontSize->value() != 0 && m_fontSize->value() < 6) {
        return tr("Font sizes below 6 pt are not readable.");
    }
    return m_safety->problem();
}

void SettingsDialog::validate() {
    const QString p = problem();
    m_problem->setText(p);
    m_problem->setVisible(!p.isEmpty());
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(p.isEmpty());
}

AppSettings SettingsDialog::settings() const {
    AppSettings s = m_original;
    s.modelPath = m_modelPath->text().trimmed();
    s.backend = m_backend->currentData().toString();
    s.weights = m_weights->currentData().toString();
    s.cpuThreads = m_threads->value();
    s.theme = m_theme->currentData().toString();
    s.fontPointSize = m_fontSize->value();
    s.labSnapshotMiB = m_labMemory->value();
    s.systemPrompt = m_defaults->systemPrompt();
    s.sampling = m_defaults->params();
    s.safety = m_safety->settings();
    return s;
}
