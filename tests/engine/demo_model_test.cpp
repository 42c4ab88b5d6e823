// SPDX-License-Identifier: Apache-2.0
// The shipped demo model (resources/models/demo): it loads, the engine reproduces the validation
// loss recorded by the training code within 1 %, and it answers "What does X mean?" for 20
// held-out words in chat turns that end with <end_of_turn>.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include <QtTest>

#include "griffin/chat_template.h"
#include "griffin/generator.h"
#include "test_files.h"

using namespace griffin;

namespace {

const std::filesystem::path kDemo =
    std::filesystem::path(GRIFFIN_RESOURCES_DIR) / "models" / "demo";

nlohmann::json readJson(const std::filesystem::path& file) {
    return nlohmann::json::parse(test::readFile(file));
}

std::set<std::string> contentWords(const std::string& text) {
    static const std::set<std::string> kStop = {
        "a",       "an",    "the",  "of",      "or",    "and",  "to",   "in",        "on",
        "for",     "with",  "by",   "as",      "is",    "it",   "that", "this",      "be",
        "are",     "was",   "at",   "from",    "which", "who",  "its",  "their",     "something",
        "someone", "means", "mean", "meaning", "word",  "noun", "verb", "adjective", "adverb",
        "used",    "one",   "not",  "has",     "have",  "been"};
    std::set<std::string> out;
    std::string word;
    for (char c : text + " ") {
        if (std::isalpha(static_cast<unsigned char>(c))) {
            word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        } else {
            if (word.size() > 2 && kStop.count(word) == 0)
                out.insert(word);
            word.clear();
        }
    }
    return out;
}

// Mean next-token loss of `logits` ([T, vocab]) on `tokens`.
double meanLoss(const std::vector<float>& logits, const std::vector<int32_t>& tokens,
                size_t vocab) {
    double total = 0.0;
    for (size_t i = 0; i + 1 < tokens.size(); ++i) {
        const float* row = logits.data() + i * vocab;
        const double maxLogit = *std::max_element(row, row + vocab);
        double sum = 0.0;
        for (size_t v = 0; v < vocab; ++v) sum += std::exp(static_cast<double>(row[v]) - maxLogit);
        total += -(row[static_cast<size_t>(tokens[i + 1])] - maxLogit - std::log(sum));
    }
    return total / static_cast<double>(tokens.size() - 1);
}

std::vector<float> allLogits(Model& model, const std::vector<int32_t>& tokens) {
    State state = model.newState();
    ForwardOptions options;
    options.allLogits = true;
    auto logits = model.prefill(state, tokens, options);
    return logits ? std::move(*logits) : std::vector<float>{};
}

}  // namespace

Q_DECLARE_METATYPE(griffin::WeightType)

class DemoModelTest : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        if (!std::filesystem::exists(kDemo / "config.json"))
            QFAIL("the demo model is missing");
        auto model = Model::load(kDemo);
        QVERIFY2(model.has_value(), model ? "" : model.error().message.c_str());
        m_model = std::move(*model);
        auto tokenizer = Tokenizer::load(kDemo / "tokenizer.model");
        QVERIFY(tokenizer.has_value());
        m_tokenizer = std::move(*tokenizer);
        QVERIFY(ChatTemplate::supports(*m_tokenizer));
        QCOMPARE(static_cast<int64_t>(m_tokenizer->vocabSize()), m_model->config().vocabSize);
    }

    void isSmallEnoughToShip() {
        int64_t bytes = 0;
        for (const auto& e : std::filesystem::directory_iterator(kDemo)) {
            bytes += static_cast<int64_t>(e.file_size());
        }
        qInfo("demo model folder: %.1f MB", bytes / 1e6);
        QVERIFY(bytes <= 40'000'000);
        QVERIFY(std::filesystem::exists(kDemo / "MODEL_CARD.md"));
    }

    void reproducesTheRecordedValidationLoss() {
        const auto sample = readJson(kDemo / "validation_sample.json");
        const auto tokens = sample.at("tokens").get<std::vector<int32_t>>();
        const double expected = sample.at("mean_loss").get<double>();
        State state = m_model->newState();
        ForwardOptions options;
        options.allLogits = true;
        auto logits = m_model->prefill(state, tokens, options);
        QVERIFY(logits.has_value());
        const size_t vocab = static_cast<size_t>(m_model->logitsSize());
        double total = 0.0;
        for (size_t i = 0; i + 1 < tokens.size(); ++i) {
            const float* row = logits->data() + i * vocab;
            const double maxLogit = *std::max_element(row, row + vocab);
            double sum = 0.0;
            for (size_t v = 0; v < vocab; ++v)
                sum += std::exp(static_cast<double>(row[v]) - maxLogit);
            total += -(row[static_cast<size_t>(tokens[i + 1])] - maxLogit - std::log(sum));
        }
        const double loss = total / static_cast<double>(tokens.size() - 1);
        qInfo("validation loss: engine %.5f, training code %.5f (%.3f %% apart)", loss, expected,
              100.0 * std::fabs(loss - expected) / expected);
        QVERIFY(std::fabs(loss - expected) <= 0.01 * expected);
    }

    // Each weight type against f32 weights (the shipped bf16 values, widened) on the validation
    // sample: top-1 agreement of every position's prediction, max |logit difference| and loss.
    void quantizedWeightsKeepTheModelsPredictions_data() {
        QTest::addColumn<WeightType>("type");
        QTest::addColumn<double>("minAgreement");
        QTest::addColumn<double>("maxLossIncrease");
        QTest::newRow("bf16") << WeightType::BF16 << 1.0 << 1e-4;
        QTest::newRow("f16") << WeightType::F16 << 0.99 << 0.01;
        QTest::newRow("q8_0") << WeightType::Q8_0 << 0.99 << 0.02;
        QTest::newRow("q4_0") << WeightType::Q4_0 << 0.80 << 0.25;
    }
    void quantizedWeightsKeepTheModelsPredictions() {
        QFETCH(WeightType, type);
        QFETCH(double, minAgreement);
        QFETCH(double, maxLossIncrease);
        const auto sample = readJson(kDemo / "validation_sample.json");
        const auto tokens = sample.at("tokens").get<std::vector<int32_t>>();
        LoadOptions f32;
        f32.quantize = WeightType::F32;
        auto reference = Model::load(kDemo, f32);
        LoadOptions quantized;
        quantized.quantize = type;
        auto model = Model::load(kDemo, quantized);
        QVERIFY(reference && model);
        QCOMPARE(
            QString::fromStdString((*model)->info().weightTypes).contains(weightTypeName(type)),
            true);
        const auto want = allLogits(**reference, tokens);
        const auto got = allLogits(**model, tokens);
        QCOMPARE(got.size(), want.size());
        const size_t vocab = static_cast<size_t>((*model)->logitsSize());
        int agree = 0;
        double maxDelta = 0.0;
        for (size_t i = 0; i < tokens.size(); ++i) {
            const float* a = want.data() + i * vocab;
            const float* b = got.data() + i * vocab;
            agree += (std::max_element(a, a + vocab) - a) == (std::max_element(b, b + vocab) - b);
            for (size_t v = 0; v < vocab; ++v)
                maxDelta = std::max(maxDelta, static_cast<double>(std::fabs(a[v] - b[v])));
        }
        const double agreement = static_cast<double>(agree) / static_cast<double>(tokens.size());
        const double lossRef = meanLoss(want, tokens, vocab), loss = meanLoss(got, tokens, vocab);
        qInfo(
            "%s: top-1 agreement %.4f over %zu tokens, max |dlogit| %.3g, validation loss %.5f "
            "(f32 %.5f), weights %lld bytes",
            weightTypeName(type), agreement, tokens.size(), maxDelta, loss, lossRef,
            static_cast<long long>((*model)->info().weightBytes));
        QVERIFY(agreement >= minAgreement);
        QVERIFY(loss - lossRef <= maxLossIncrease);
    }

    void answersHeldOutWordsInTurns() {
        const auto words = readJson(kDemo / "heldout_words.json").at("words");
        QCOMPARE(words.size(), size_t{20});
        ChatTemplate chat(*m_tokenizer);
        int shared = 0;
        for (const auto& w : words) {
            const std::string question =
                "What does '" + w.at("word").get<std::string>() + "' mean?";
            const std::vector<ChatMessage> messages = {{Role::User, question}};
            auto ids = chat.encode(messages, "", true);
            QVERIFY(ids.has_value());
            GenerateOptions options;
            options.sampling.temperature = 0.0f;
            options.maxTokens = 64;
            State state = m_model->newState();
            auto r = Generator(*m_model, *m_tokenizer).generate(state, *ids, options);
            QVERIFY(r.has_value());
            QVERIFY2(r->stats.stopReason == StopReason::EndOfTurn, question.c_str());
            QVERIFY2(!ChatTemplate::trim(r->text).empty(), question.c_str());
            const auto gloss = contentWords(w.at("gloss").get<std::string>());
            bool overlap = false;
            for (const std::string& word : contentWords(r->text)) overlap |= gloss.count(word) != 0;
            shared += overlap ? 1 : 0;
            qInfo("%-40s -> %s%s", question.c_str(), r->text.c_str(),
                  overlap ? "  [shares a gloss word]" : "");
        }
        qInfo("%d of 20 answers share a content word with the WordNet gloss", shared);
    }

private:
    std::unique_ptr<Model> m_model;
    std::unique_ptr<Tokenizer> m_tokenizer;
};

QTEST_APPLESS_MAIN(DemoModelTest)
#include "demo_model_test.moc"
