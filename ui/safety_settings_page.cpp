// SPDX-License-Identifier: Apache-2.0
#include "safety_settings_page.h"

#include <algorithm>

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QVBoxLayout>

#include "services/safety_setup.h"

namespace {

// Category id -> description: the built-in rules, the user's file when it loads, and any
// category the settings name (a file that no longer loads keeps its entries).
QMap<QString, QString> knownCategories(const SafetySettings& settings) {
    QMap<QString, QString> out;
    if (auto rules = loadSafetyRules(settings.userRulesFile)) {
        for (const auto& [id, description] : rules->categories())
            out[QString::fromStdString(id)] = QString::fromStdString(description);
    }
    for (auto it = settings.categoryActions.begin(); it != settings.categoryActions.end(); ++it) {
        if (!out.contains(it.key()))
            out[it.key()] = QString(it.key()).replace(QLatin1Char('_'), QLatin1Char(' '));
    }
    return out;
}

QString piiLabel(const QString& type) {
    if (type == QLatin1String("email"))
        return SafetySettingsPage::tr("E-mail addresses");
    if (type == QLatin1String("phone"))
        return SafetySettingsPage::tr("Phone numbers");
    if (type == QLatin1String("payment_card"))
        return SafetySettingsPage::tr("Payment card numbers");
    if (type == QLatin1String("iban"))
        return SafetySettingsPage::tr("Bank account numbers (IBAN)");
    return SafetySettingsPage::tr("IP addresses");
}

}  // namespace

SafetySettingsPage::SafetySettingsPage(const SafetySettings& settings, QWidget* parent)
    : QWidget(parent), m_original(settings) {
    setObjectName(QStringLiteral("safetySettingsPage"));
    // The page scrolls, so it stays usable on small screens (down to 800×600).
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    auto* scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    auto* content = new QWidget(scroll);
    auto* layout = new QVBoxLayout(content);
    scroll->setWidget(content);
    outer->addWidget(scroll);

    m_enabled = new QCheckBox(tr("Use the safety filters"), this);
    m_enabled->setObjectName(QStringLiteral("safetyEnabled"));
    m_enabled->setAccessibleName(tr("Safety filters on"));
    m_enabled->setChecked(settings.enabled);
    layout->addWidget(m_enabled);

    // Replies: one action per rule category.
    auto* replies = new QGroupBox(tr("What a match in a reply does"), this);
    auto* replyForm = new QFormLayout(replies);
    const QMap<QString, QString> categories = knownCategories(settings);
    for (auto it = categories.begin(); it != categories.end(); ++it) {
        auto* box = new QComboBox(replies);
        box->setObjectName(QStringLiteral("categoryAction_") + it.key());
        box->setAccessibleName(tr("Action for %1").arg(it.value()));
        box->setToolTip(tr("Rules category %1").arg(it.key()));
        box->addItem(tr("The rule's own action"), QString());
        box->addItem(tr("Block (stop the reply)"), QStringLiteral("block"));
        box->addItem(tr("Redact (mask the words)"), QStringLiteral("redact"));
        box->addItem(tr("Flag (note only)"), QStringLiteral("flag"));
        box->addItem(tr("Allow"), QStringLiteral("allow"));
        box->setCurrentIndex(std::max(0, box->findData(settings.categoryActions.value(it.key()))));
        QString label = it.value();
        if (!label.isEmpty())
            label[0] = label[0].toUpper();
        replyForm->addRow(label, box);
        m_categoryActions[it.key()] = box;
        connect(box, &QComboBox::currentIndexChanged, this, &SafetySettingsPage::changed);
    }
    layout->addWidget(replies);

    auto* pii = new QGroupBox(tr("Personal information redacted in replies"), this);
    auto* piiGrid = new QGridLayout(pii);
    for (const QString& type : SafetySettings::kPiiTypes) {
        auto* box = new QCheckBox(piiLabel(type), pii);
        box->setObjectName(QStringLiteral("pii_") + type);
        box->setAccessibleName(tr("Redact %1").arg(piiLabel(type).toLower()));
        box->setChecked(settings.piiTypes.contains(type));
        const int n = static_cast<int>(m_pii.size());
        piiGrid->addWidget(box, n / 2, n % 2);
        m_pii[type] = box;
        connect(box, &QCheckBox::toggled, this, &SafetySettingsPage::changed);
    }
    layout->addWidget(pii);

    auto* input = new QGroupBox(tr("Your messages"), this);
    auto* inputForm = new QFormLayout(input);
    m_inputMode = new QComboBox(input);
    m_inputMode->setObjectName(QStringLiteral("inputMode"));
    m_inputMode->setAccessibleName(tr("Check my messages"));
    m_inputMode->addItem(tr("Not checked"), QStringLiteral("off"));
    m_inputMode->addItem(tr("Most severe categories only"), QStringLiteral("severe"));
    m_inputMode->addItem(tr("All categories"), QStringLiteral("all"));
    m_inputMode->setCurrentIndex(std::max(0, m_inputMode->findData(settings.inputMode)));
    m_inputAction = new QComboBox(input);
    m_inputAction->setObjectName(QStringLiteral("inputAction"));
    m_inputAction->setAccessibleName(tr("When my message matches"));
    m_inputAction->addItem(tr("Refuse it (not sent to the model)"), QStringLiteral("refuse"));
    m_inputAction->addItem(tr("Flag it and send it"), QStringLiteral("flag"));
    m_inputAction->setCurrentIndex(std::max(0, m_inputAction->findData(settings.inputAction)));
    inputForm->addRow(tr("Check"), m_inputMode);
    inputForm->addRow(tr("On a match"), m_inputAction);
    layout->addWidget(input);
    connect(m_inputMode, &QComboBox::currentIndexChanged, this, [this] {
        updateEnabled();
        emit changed();
    });
    connect(m_inputAction, &QComboBox::currentIndexChanged, this, &SafetySettingsPage::changed);

    auto* extra = new QGroupBox(tr("More rules and the model's judgement"), this);
    auto* extraForm = new QFormLayout(extra);
    m_rulesFile = new QLineEdit(settings.userRulesFile, extra);
    m_rulesFile->setObjectName(QStringLiteral("userRulesFile"));
    m_rulesFile->setAccessibleName(tr("Your rules file"));
    m_rulesFile->setPlaceholderText(tr("none; same format as the built-in rules.json"));
    auto* browse = new QPushButton(tr("Browse…"), extra);
    browse->setAccessibleName(tr("Choose your rules file"));
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString file = QFileDialog::getOpenFileName(
            this, tr("Safety rules file"), m_rulesFile->text(), tr("JSON files (*.json)"));
        if (!file.isEmpty())
            m_rulesFile->setText(file);
    });
    auto* fileRow = new QHBoxLayout();
    fileRow->addWidget(m_rulesFile);
    fileRow->addWidget(browse);
    extraForm->addRow(tr("Your rules file"), fileRow);
    m_rulesStatus = new QLabel(extra);
    m_rulesStatus->setObjectName(QStringLiteral("userRulesStatus"));
    m_rulesStatus->setWordWrap(true);
    extraForm->addRow(m_rulesStatus);
    // Custom terms: kept as one rule in the rules file, validated when Settings is saved.
    m_customOriginal = readCustomTerms(settings.userRulesFile);
    m_customTerms = new QPlainTextEdit(extra);
    m_customTerms->setObjectName(QStringLiteral("customTerms"));
    m_customTerms->setAccessibleName(tr("Custom terms, one per line"));
    m_customTerms->setPlaceholderText(tr("Words or phrases to act on, one per line"));
    m_customTerms->setPlainText(m_customOriginal.terms.join(QLatin1Char('\n')));
    m_customTerms->setMaximumHeight(90);
    m_customCategory = new QComboBox(extra);
    m_customCategory->setObjectName(QStringLiteral("customTermsCategory"));
    m_customCategory->setAccessibleName(tr("Category of the custom terms"));
    if (auto builtin = loadSafetyRules(QString())) {
        for (const auto& [id, description] : builtin->categories())
            m_customCategory->addItem(QString::fromStdString(description),
                                      QString::fromStdString(id));
    }
    m_customCategory->setCurrentIndex(
        std::max(0, m_customCategory->findData(m_customOriginal.category)));
    m_customAction = new QComboBox(extra);
    m_customAction->setObjectName(QStringLiteral("customTermsAction"));
    m_customAction->setAccessibleName(tr("What the custom terms do"));
    m_customAction->addItem(tr("Block"), QStringLiteral("block"));
    m_customAction->addItem(tr("Redact"), QStringLiteral("redact"));
    m_customAction->addItem(tr("Flag"), QStringLiteral("flag"));
    m_customAction->setCurrentIndex(std::max(0, m_customAction->findData(m_customOriginal.action)));
    auto* customRow = new QHBoxLayout();
    customRow->addWidget(m_customCategory, 1);
    customRow->addWidget(m_customAction);
    extraForm->addRow(tr("Custom terms"), m_customTerms);
    extraForm->addRow(tr("Custom terms are"), customRow);
    connect(m_customTerms, &QPlainTextEdit::textChanged, this, &SafetySettingsPage::changed);

    m_judge =
        new QCheckBox(tr("Ask the model whether each reply breaks the rules (slower)"), extra);
    m_judge->setObjectName(QStringLiteral("judgeEnabled"));
    m_judge->setAccessibleName(tr("Model-judged filter"));
    m_judge->setToolTip(
        tr("After each reply the model answers Yes or No to a policy question about it; the "
           "reply is flagged when the probability of Yes reaches the threshold."));
    m_judge->setChecked(settings.judgeEnabled);
    m_threshold = new QDoubleSpinBox(extra);
    m_threshold->setObjectName(QStringLiteral("judgeThreshold"));
    m_threshold->setAccessibleName(tr("Model-judged filter threshold"));
    m_threshold->setRange(0.01, 0.99);
    m_threshold->setSingleStep(0.05);
    m_threshold->setDecimals(2);
    m_threshold->setValue(settings.judgeThreshold);
    extraForm->addRow(m_judge);
    extraForm->addRow(tr("Flag when P(Yes) ≥"), m_threshold);
    layout->addWidget(extra);
    layout->addStretch();
    connect(m_rulesFile, &QLineEdit::textChanged, this, [this] {
        checkRulesFile();
        emit changed();
    });
    connect(m_judge, &QCheckBox::toggled, this, [this] {
        updateEnabled();
        emit changed();
    });
    connect(m_threshold, &QDoubleSpinBox::valueChanged, this, &SafetySettingsPage::changed);
    connect(m_enabled, &QCheckBox::toggled, this, [this] {
        updateEnabled();
        emit changed();
    });
    m_dependents = {replies, pii, input, extra};
    checkRulesFile();
    updateEnabled();
}

void SafetySettingsPage::checkRulesFile() {
    const QString file = m_rulesFile->text().trimmed();
    m_rulesProblem = file.isEmpty() ? QString() : checkUserRulesFile(file);
    if (file.isEmpty()) {
        m_rulesStatus->setText(tr("Only the built-in rules are used."));
        m_rulesStatus->setStyleSheet(QString());
    } else if (m_rulesProblem.isEmpty()) {
        m_rulesStatus->setText(tr("The file is valid; its rules are added to the built-in ones."));
        m_rulesStatus->setStyleSheet(QString());
    } else {
        m_rulesStatus->setText(m_rulesProblem);
        m_rulesStatus->setStyleSheet(QStringLiteral("color: #c0392b"));
    }
}

void SafetySettingsPage::updateEnabled() {
    for (QWidget* w : m_dependents) w->setEnabled(m_enabled->isChecked());
    m_inputAction->setEnabled(m_inputMode->currentData().toString() != QLatin1String("off"));
    m_threshold->setEnabled(m_judge->isChecked());
}

SafetySettings SafetySettingsPage::settings() const {
    SafetySettings s = m_original;
    s.enabled = m_enabled->isChecked();
    s.categoryActions.clear();
    for (auto it = m_categoryActions.begin(); it != m_categoryActions.end(); ++it) {
        const QString action = it.value()->currentData().toString();
        if (!action.isEmpty())
            s.categoryActions[it.key()] = action;
    }
    s.piiTypes.clear();
    for (const QString& type : SafetySettings::kPiiTypes) {
        if (m_pii.value(type)->isChecked())
            s.piiTypes << type;
    }
    s.inputMode = m_inputMode->currentData().toString();
    s.inputAction = m_inputAction->currentData().toString();
    s.userRulesFile = m_rulesFile->text().trimmed();
    s.judgeEnabled = m_judge->isChecked();
    s.judgeThreshold = m_threshold->value();
    return s;
}

bool SafetySettingsPage::saveCustomTerms(QString* error) {
    CustomTerms terms;
    for (const QString& line : m_customTerms->toPlainText().split(QLatin1Char('\n'))) {
        if (!line.simplified().isEmpty())
            terms.terms << line.simplified();
    }
    terms.category = m_customCategory->currentData().toString();
    terms.action = m_customAction->currentData().toString();
    if (terms == m_customOriginal || (terms.terms.isEmpty() && m_customOriginal.terms.isEmpty()))
        return true;
    QString file = m_rulesFile->text().trimmed();
    if (file.isEmpty())
        file = defaultUserRulesFile();
    if (auto s = writeCustomTerms(file, terms); !s) {
        if (error != nullptr)
            *error = QString::fromStdString(s.error().message);
        return false;
    }
    m_customOriginal = terms;
    m_rulesFile->setText(file);  // the file now holds them (and is checked again)
    return true;
}
