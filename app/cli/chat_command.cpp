// SPDX-License-Identifier: Apache-2.0
// `griffin chat [--model PATH] [--system TEXT] [--max-tokens N] [sampling flags]`: a terminal
// chat. Each user line continues the same State (no re-prefill of the history). Replies go to
// stdout, prompts and notices to stderr. Ctrl-C stops the current reply; Ctrl-D or /quit leaves.
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/interrupt.h"
#include "cli/npy.h"
#include "cli/session.h"
#include "default_model.h"
#include "griffin/chat_template.h"

namespace griffin::cli {
namespace {

constexpr const char* kHelp =
    "commands: /reset  /save FILE  /load FILE  /system TEXT  /stats  /help  /quit\n"
    "(Ctrl-C stops a reply; Ctrl-D or /quit leaves)\n";

class ChatSession {
public:
    ChatSession(LoadedModel& loaded, GenerateOptions options, std::string system)
        : m_model(*loaded.model),
          m_tokenizer(*loaded.tokenizer),
          m_template(*loaded.tokenizer),
          m_options(std::move(options)),
          m_system(std::move(system)),
          m_state(m_model.newState()) {}

    // Handles one input line; returns false to leave.
    bool handle(const std::string& line, InterruptWatcher& interrupt) {
        if (line.empty())
            return true;
        if (line[0] != '/')
            return reply(line, interrupt);
        std::istringstream in(line);
        std::string command;
        in >> command;
        std::string rest;
        std::getline(in, rest);
        rest = ChatTemplate::trim(rest);
        if (command == "/quit" || command == "/exit")
            return false;
        if (command == "/help") {
            std::cerr << kHelp;
        } else if (command == "/reset") {
            reset();
            std::cerr << "(conversation cleared)\n";
        } else if (command == "/system") {
            m_system = rest;
            reset();
            std::cerr << "(system prompt set; conversation cleared)\n";
        } else if (command == "/stats") {
            printStats();
        } else if (command == "/save" && !rest.empty()) {
            save(rest);
        } else if (command == "/load" && !rest.empty()) {
            load(rest);
        } else {
            std::cerr << "unknown command or missing argument: " << line << "\n" << kHelp;
        }
        return true;
    }

private:
    void reset() {
        m_state.reset();
        m_messages.clear();
        m_pending.reset();
    }

    bool reply(const std::string& text, InterruptWatcher& interrupt) {
        std::vector<int32_t> ids;
        if (m_messages.empty()) {
            const ChatMessage first{Role::User, text};
            ids = *m_template.encode(std::span(&first, 1), m_system, true);
        } else {
            ids = m_template.continuation(m_pending, text);
        }
        GenerateOptions options = m_options;
        options.stop = interrupt.arm();
        options.sampling.seed = m_options.sampling.seed + m_messages.size();
        options.onToken = [](const TokenEvent& e) { std::cout << e.text << std::flush; };
        State backup = m_state.clone();
        auto result = Generator(m_model, m_tokenizer).generate(m_state, ids, options);
        std::cout << "\n" << std::flush;
        if (!result) {
            m_state = std::move(backup);  // the conversation stays as it was
            std::cerr << "error: " << result.error().message << "\n";
            return true;
        }
        if (result->stats.stopReason == StopReason::Cancelled)
            std::cerr << "(stopped)\n";
        m_messages.push_back({Role::User, text});
        m_messages.push_back({Role::Model, result->text});
        m_pending = result->pending;
        m_lastStats = result->stats;
        return true;
    }

    void printStats() const {
        std::cerr << "turns: " << m_messages.size() << ", position: " << m_state.position()
                  << ", state: " << m_state.bytes() << " bytes\n";
        if (m_lastStats) {
            const GenerationStats& s = *m_lastStats;
            std::cerr << "last reply: " << s.generatedTokens << " tokens ("
                      << stopReasonName(s.stopReason) << "), prompt " << s.promptTokens
                      << " tokens, first token after " << s.ttftMs << " ms, prefill "
                      << s.prefillTokensPerS << " tok/s, decode " << s.decodeTokensPerS
                      << " tok/s\n";
        }
    }

    // FILE holds the transcript (JSON), FILE.state the state snapshot.
    void save(const std::string& file) {
        nlohmann::json messages = nlohmann::json::array();
        for (const ChatMessage& m : m_messages) {
            messages.push_back(
                {{"role", m.role == Role::User ? "user" : "model"}, {"content", m.content}});
        }
        nlohmann::json transcript = {{"format", "griffin-chat-transcript"},
                                     {"version", 1},
                                     {"model_fingerprint", m_model.info().fingerprint},
                                     {"system", m_system},
                                     {"messages", messages},
                                     {"pending_token", m_pending ? *m_pending : -1}};
        if (auto s = m_model.saveState(m_state, file + ".state"); !s) {
            std::cerr << "error: " << s.error().message << "\n";
            return;
        }
        const std::string text =
            transcript.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
        if (auto s = writeFileAtomically(file, text); !s) {
            std::cerr << "error: " << s.error().message << "\n";
            return;
        }
        std::cerr << "(saved " << file << " and " << file << ".state)\n";
    }

    void load(const std::string& file) {
        std::ifstream in(file, std::ios::binary);
        if (!in) {
            std::cerr << "error: " << file << ": cannot open\n";
            return;
        }
        std::vector<ChatMessage> messages;
        std::string system;
        std::optional<int32_t> pending;
        try {
            const nlohmann::json t = nlohmann::json::parse(in);
            if (t.at("format").get<std::string>() != "griffin-chat-transcript") {
                throw std::runtime_error("not a griffin chat transcript");
            }
            system = t.at("system").get<std::string>();
            for (const auto& m : t.at("messages")) {
                const std::string role = m.at("role").get<std::string>();
                if (role != "user" && role != "model")
                    throw std::runtime_error("bad role " + role);
                messages.push_back({role == "user" ? Role::User : Role::Model,
                                    m.at("content").get<std::string>()});
            }
            const int64_t p = t.at("pending_token").get<int64_t>();
            if (p >= m_tokenizer.vocabSize())
                throw std::runtime_error("bad pending_token");
            if (p >= 0)
                pending = static_cast<int32_t>(p);
        } catch (const std::exception& e) {
            std::cerr << "error: " << file << ": " << e.what() << "\n";
            return;
        }
        auto state = m_model.loadState(file + ".state");
        if (!state) {
            std::cerr << "error: " << state.error().message << "\n";
            return;
        }
        m_state = std::move(*state);
        m_messages = std::move(messages);
        m_system = std::move(system);
        m_pending = pending;
        std::cerr << "(loaded " << m_messages.size() / 2 << " turns)\n";
    }

    Model& m_model;
    const Tokenizer& m_tokenizer;
    ChatTemplate m_template;
    GenerateOptions m_options;
    std::string m_system;
    State m_state;
    std::vector<ChatMessage> m_messages;
    std::optional<int32_t> m_pending;
    std::optional<GenerationStats> m_lastStats;
};

}  // namespace

int runChat(int argc, char** argv) {
    ArgSpec spec;
    spec.valued = {"--model", "--system", "--max-tokens"};
    addLoadOptions(spec);
    addSamplingOptions(spec);
    auto args = Args::parse(argc, argv, 2, spec);
    if (!args)
        return fail("chat", args.error().message);
    auto sampling = samplingFromArgs(*args);
    if (!sampling)
        return fail("chat", sampling.error().message);
    auto maxTokens = args->getInt("--max-tokens", 512, 1, 1 << 24);
    if (!maxTokens)
        return fail("chat", maxTokens.error().message);

    InterruptWatcher interrupt;  // before the model's worker threads exist
    auto loaded = loadModelWithTokenizer(*args);
    if (!loaded)
        return fail("chat", loaded.error().message);
    if (!ChatTemplate::supports(*loaded->tokenizer)) {
        return fail("chat", "the tokenizer has no <start_of_turn>/<end_of_turn>: not a chat model");
    }
    GenerateOptions options;
    options.sampling = *sampling;
    options.maxTokens = *maxTokens;
    ChatSession session(*loaded, options, args->get("--system").value_or(""));
    std::cerr << "griffin chat: " << loaded->model->info().path.string() << "\n";
    if (app::isDefaultModel(loaded->model->info().path)) {
        std::cerr << "Note: " << app::demoModelHint() << "\n";
    }
    std::cerr << kHelp;
    std::string line;
    while (true) {
        std::cerr << "> " << std::flush;
        if (!std::getline(std::cin, line))
            break;
        if (!session.handle(line, interrupt))
            break;
    }
    std::cerr << "\n";
    return 0;
}

}  // namespace griffin::cli
