// SPDX-License-Identifier: Apache-2.0
// The model-judged safety filter on the shipped demo model: the conversation state it forks from
// is bit-identical afterwards, P("Yes") is the softmax of the model's own logits computed here
// independently, and the threshold alone decides.
#include "griffin/safety_judge.h"

#include <cmath>
#include <cstring>

#include <QtTest>

#include "griffin/chat_template.h"
#include "griffin/model.h"
#include "griffin/tokenizer.h"
#include "test_files.h"

using namespace griffin;

namespace {

const std::filesystem::path kDemo =
    std::filesystem::path(GRIFFIN_RESOURCES_DIR) / "models" / "demo";
constexpr const char* kPolicy = "instructions for violent wrongdoing";
constexpr const char* kText = "Here is how to bake bread: mix flour, water and yeast.";

template <class T>
bool sameBits(const std::vector<T>& a, const std::vector<T>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

bool bitIdentical(const State& a, const State& b) {
    if (a.position() != b.position() || a.recurrentLayers().size() != b.recurrentLayers().size() ||
        a.attentionLayers().size() != b.attentionLayers().size()) {
        return false;
    }
    for (size_t i = 0; i < a.recurrentLayers().size(); ++i) {
        const auto &x = a.recurrentLayers()[i], &y = b.recurrentLayers()[i];
        if (!sameBits(x.h, y.h) || !sameBits(x.convTail, y.convTail))
            return false;
    }
    for (size_t i = 0; i < a.attentionLayers().size(); ++i) {
        const auto &x = a.attentionLayers()[i], &y = b.attentionLayers()[i];
        if (!sameBits(x.keys, y.keys) || !sameBits(x.values, y.values) ||
            !sameBits(x.slotPositions, y.slotPositions)) {
            return false;
        }
    }
    return true;
}

// Softmax in long double from a plain loop (not the engine's helper).
double referenceSoftmax(const std::vector<float>& logits, int32_t token) {
    long double maxLogit = logits[0];
    for (float l : logits) maxLogit = std::max<long double>(maxLogit, l);
    long double sum = 0;
    for (float l : logits) sum += std::exp(static_cast<long double>(l) - maxLogit);
    return static_cast<double>(
        std::exp(static_cast<long double>(logits[static_cast<size_t>(token)]) - maxLogit) / sum);
}

}  // namespace

class SafetyJudgeTest : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        auto model = Model::load(kDemo);
        QVERIFY2(model.has_value(), model ? "" : model.error().message.c_str());
        m_model = std::move(*model);
        auto tokenizer = Tokenizer::load(kDemo / "tokenizer.model");
        QVERIFY(tokenizer.has_value());
        m_tokenizer = std::move(*tokenizer);
        // A conversation that has just finished a turn: the state the app forks from.
        const std::vector<ChatMessage> turns = {{Role::User, "What does quick mean?"},
                                                {Role::Model, "Moving fast."}};
        auto ids = ChatTemplate(*m_tokenizer).encode(turns, "", false);
        QVERIFY(ids.has_value());
        m_conversation = m_model->newState();
        QVERIFY(m_model->prefill(m_conversation, *ids).has_value());
    }

    // The first piece of each answer: the whole word in large vocabularies, a prefix of it in
    // the demo model's small one.
    void answerTokensBeginYesAndNo() {
        const int32_t yes = safety::answerToken(*m_tokenizer, "Yes");
        const int32_t no = safety::answerToken(*m_tokenizer, "No");
        QVERIFY(yes >= 0 && no >= 0 && yes != no);
        const QString yesText = QString::fromStdString(m_tokenizer->decode({&yes, 1})).trimmed();
        const QString noText = QString::fromStdString(m_tokenizer->decode({&no, 1})).trimmed();
        qInfo("answer pieces: '%s' (%d), '%s' (%d)", m_tokenizer->piece(yes).c_str(), yes,
              m_tokenizer->piece(no).c_str(), no);
        QVERIFY2(!yesText.isEmpty() && QStringLiteral("Yes").startsWith(yesText),
                 qPrintable(yesText));
        QVERIFY2(!noText.isEmpty() && QStringLiteral("No").startsWith(noText), qPrintable(noText));
    }

    void judgingLeavesTheConversationStateBitIdentical() {
        const State before = m_conversation.clone();
        safety::JudgeOptions options;
        options.policy = kPolicy;
        auto r = safety::judge(*m_model, *m_tokenizer, &m_conversation, kText, options);
        QVERIFY2(r.has_value(), r ? "" : r.error().message.c_str());
        QVERIFY(bitIdentical(before, m_conversation));
    }

    // From the forked conversation state and from a fresh state: the probability equals the
    // softmax of the logits the model gives for the same prompt, fed here by hand.
    void probabilityIsTheSoftmaxOfTheModelsLogits_data() {
        QTest::addColumn<bool>("fresh");
        QTest::newRow("forked") << false;
        QTest::newRow("fresh") << true;
    }
    void probabilityIsTheSoftmaxOfTheModelsLogits() {
        QFETCH(bool, fresh);
        safety::JudgeOptions options;
        options.policy = kPolicy;
        auto r = safety::judge(*m_model, *m_tokenizer, fresh ? nullptr : &m_conversation, kText,
                               options);
        QVERIFY2(r.has_value(), r ? "" : r.error().message.c_str());
        QVERIFY(r->yesProbability >= 0.0 && r->yesProbability <= 1.0);
        QVERIFY(r->noProbability >= 0.0 && r->noProbability <= 1.0);
        QVERIFY(r->yesProbability + r->noProbability <= 1.0 + 1e-12);

        // The same prompt through the chat template: a user turn and the generation prompt,
        // without <bos> when continuing the conversation.
        const ChatMessage question(Role::User, safety::judgeQuestion(kText, kPolicy));
        auto ids = ChatTemplate(*m_tokenizer).encode({&question, 1}, "", true);
        QVERIFY(ids.has_value());
        if (!fresh)
            ids->erase(ids->begin());
        State state = fresh ? m_model->newState() : m_conversation.clone();
        auto logits = m_model->prefill(state, *ids);
        QVERIFY(logits.has_value());
        QCOMPARE(static_cast<int64_t>(logits->size()), m_model->logitsSize());
        const double yes = referenceSoftmax(*logits, r->yesToken);
        const double no = referenceSoftmax(*logits, r->noToken);
        qInfo("P(Yes) = %.6g (reference %.6g), P(No) = %.6g (reference %.6g)", r->yesProbability,
              yes, r->noProbability, no);
        QVERIFY2(std::fabs(r->yesProbability - yes) <= 1e-9 * std::max(1.0, yes),
                 qPrintable(QString("%1 vs %2").arg(r->yesProbability).arg(yes)));
        QVERIFY2(std::fabs(r->noProbability - no) <= 1e-9 * std::max(1.0, no),
                 qPrintable(QString("%1 vs %2").arg(r->noProbability).arg(no)));
    }

    void theThresholdDecides() {
        safety::JudgeOptions options;
        options.policy = kPolicy;
        auto probe = safety::judge(*m_model, *m_tokenizer, &m_conversation, kText, options);
        QVERIFY(probe.has_value());
        const double p = probe->yesProbability;
        QVERIFY(p > 0.0 && p < 1.0);
        options.threshold = p;
        auto at = safety::judge(*m_model, *m_tokenizer, &m_conversation, kText, options);
        QVERIFY(at.has_value() && at->violates);
        options.threshold = std::nextafter(p, 1.0);
        auto above = safety::judge(*m_model, *m_tokenizer, &m_conversation, kText, options);
        QVERIFY(above.has_value() && !above->violates);
        options.threshold = 0.0;
        QVERIFY(safety::judge(*m_model, *m_tokenizer, &m_conversation, kText, options)->violates);
        options.threshold = 1.0;
        QVERIFY(!safety::judge(*m_model, *m_tokenizer, &m_conversation, kText, options)->violates);
    }

    void thresholdOutsideZeroToOneIsRejected() {
        safety::JudgeOptions options;
        options.policy = kPolicy;
        options.threshold = 1.5;
        auto r = safety::judge(*m_model, *m_tokenizer, nullptr, kText, options);
        QVERIFY(!r.has_value());
        QCOMPARE(r.error().code, ErrorCode::InvalidArgument);
        QVERIFY(r.error().message.find("threshold") != std::string::npos);
    }

private:
    std::unique_ptr<Model> m_model;
    std::unique_ptr<Tokenizer> m_tokenizer;
    State m_conversation;
};

QTEST_APPLESS_MAIN(SafetyJudgeTest)
#include "safety_judge_test.moc"
