// SPDX-License-Identifier: Apache-2.0
// ChatTemplate: the exact strings of griffin-spec.md §5.4 and ids that agree with them.
#include "griffin/chat_template.h"

#include <QtTest>

#include "test_files.h"

using namespace griffin;

class ChatTemplateTest : public QObject {
    Q_OBJECT

private slots:
    void singleTurnIsTheGemmaFormat() {
        const std::vector<ChatMessage> m = {{Role::User, "  Hello there!\n"}};
        QCOMPARE(*ChatTemplate::render(m, "", true),
                 std::string("<bos><start_of_turn>user\nHello there!<end_of_turn>\n"
                             "<start_of_turn>model\n"));
    }

    void severalTurnsWithSystemPrompt() {
        const std::vector<ChatMessage> m = {{Role::User, "Hi"},
                                            {Role::Model, "Hello! How can I help?"},
                                            {Role::User, "What is 2+3?"}};
        QCOMPARE(*ChatTemplate::render(m, "Answer briefly.", true),
                 std::string("<bos><start_of_turn>user\nAnswer briefly.\n\nHi<end_of_turn>\n"
                             "<start_of_turn>model\nHello! How can I help?<end_of_turn>\n"
                             "<start_of_turn>user\nWhat is 2+3?<end_of_turn>\n"
                             "<start_of_turn>model\n"));
        QCOMPARE(*ChatTemplate::render(std::span(m).first(2), "", false),
                 std::string("<bos><start_of_turn>user\nHi<end_of_turn>\n"
                             "<start_of_turn>model\nHello! How can I help?<end_of_turn>\n"));
    }

    void rolesMustAlternateStartingWithTheUser() {
        const std::vector<ChatMessage> bad = {{Role::Model, "I start"}};
        auto r = ChatTemplate::render(bad, "", true);
        QVERIFY(!r.has_value());
        QCOMPARE(r.error().code, ErrorCode::InvalidArgument);
        const std::vector<ChatMessage> twice = {{Role::User, "a"}, {Role::User, "b"}};
        QVERIFY(!ChatTemplate::render(twice, "", true).has_value());
    }

    // The ids equal the tokenizer's encoding of the rendered text with special pieces allowed.
    void idsAgreeWithTheRenderedText() {
        auto tok = Tokenizer::load(test::testTokenizer("multi.model"));
        QVERIFY(tok.has_value());
        ChatTemplate t(**tok);
        const std::vector<ChatMessage> m = {{Role::User, "Grüße! What does 'lucid' mean?"},
                                            {Role::Model, "Clear and easy to understand."},
                                            {Role::User, "Thanks 🎉"}};
        const std::string text = *ChatTemplate::render(m, "Be kind.", true);
        std::vector<int32_t> expected{(*tok)->bosId()};
        const auto rest = (*tok)->encode(text.substr(5), true);  // after "<bos>"
        expected.insert(expected.end(), rest.begin(), rest.end());
        QCOMPARE(*t.encode(m, "Be kind.", true), expected);
    }

    // Continuing after a reply feeds exactly the ids a full rendering would add.
    void continuationExtendsTheConversationIds() {
        auto tok = Tokenizer::load(test::testTokenizer("multi.model"));
        QVERIFY(tok.has_value());
        ChatTemplate t(**tok);
        const std::vector<ChatMessage> first = {{Role::User, "Hi"}};
        std::vector<int32_t> ids = *t.encode(first, "", true);
        const auto reply = (*tok)->encode("Hello!");
        ids.insert(ids.end(), reply.begin(), reply.end());
        // The last reply token is still pending (stop reason max_tokens).
        ids.pop_back();
        const auto more = t.continuation(reply.back(), " And you? ");
        ids.insert(ids.end(), more.begin(), more.end());
        const std::vector<ChatMessage> full = {
            {Role::User, "Hi"}, {Role::Model, "Hello!"}, {Role::User, "And you?"}};
        QCOMPARE(ids, *t.encode(full, "", true));
    }
};

QTEST_APPLESS_MAIN(ChatTemplateTest)
#include "chat_template_test.moc"
