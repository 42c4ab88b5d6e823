// SPDX-License-Identifier: Apache-2.0
// `griffin bench`: decode and prefill speed against this machine's own measured bounds.
// Decoding reads every weight once per token, so the headline is achieved bytes/s (weight bytes
// per token x tokens/s) over the measured streaming-read bandwidth; prefill is a GEMM, measured
// against the FMA peak. Contexts are reached by real prefill where affordable, otherwise by a
// synthetic state (attention ring and recurrences filled as if `context` tokens had been read),
// which costs a step exactly what a real state does: Griffin's state has a fixed size. On the
// CPU each context's steps are also taken in turns with read passes (cli/bench_probe.h), which
// rates them against the machine as it is at that moment.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <limits>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <sys/resource.h>

#include "cli/args.h"
#include "cli/bench_probe.h"
#include "cli/bench_turns.h"
#include "cli/commands.h"
#include "cli/session.h"
#include "griffin/bench.h"
#include "griffin/model.h"
#include "griffin/model_config.h"

namespace griffin::cli {
namespace {

// The flatness rounds (takeTurns): at most this many, or fewer once they took this long.
constexpr int64_t kMaxTurnRounds = 64;
constexpr double kTurnBudgetSeconds = 30.0;

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

int64_t peakRssBytes() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<int64_t>(usage.ru_maxrss) * 1024;
}

// Anonymous memory the kernel backs with transparent huge pages now (/proc/self/smaps_rollup;
// -1 where that cannot be read): the weights of synthetic and converted models live there when
// the system gives huge pages (io::PageArena), memory-mapped files do not.
int64_t anonHugePageBytes() {
    std::ifstream in("/proc/self/smaps_rollup");
    std::string key;
    while (in >> key) {
        if (key == "AnonHugePages:") {
            int64_t kb = 0;
            return in >> kb ? kb * 1024 : -1;
        }
        in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
    }
    return -1;
}

// The official shapes (griffin-spec.md §1.1) as config.json text, validated by the same parser.
Result<ModelConfig> syntheticConfig(const std::string& name, const Args& args) {
    if (name == "demo") {
        auto folder = resolveModel(args);  // --model is not given: the embedded demo model
        if (!folder)
            return folder.error();
        return loadModelConfig(*folder / "config.json");
    }
    int width = 0, mlp = 0, layers = 0, heads = 0;
    if (name == "2b") {
        width = 2560, mlp = 15360, layers = 26, heads = 10;
    } else if (name == "9b") {
        width = 4096, mlp = 24576, layers = 38, heads = 16;
    } else {
        return makeError(ErrorCode::InvalidArgument,
                         "--synthetic must be 2b, 9b or demo (got '" + name + "')");
    }
    std::ostringstream json;
    json << R"({"model_type": "recurrent_gemma", "vocab_size": 256000, "hidden_size": )" << width
         << R"(, "intermediate_size": )" << mlp << R"(, "num_hidden_layers": )" << layers
         << R"(, "num_attention_heads": )" << heads
         << R"(, "num_key_value_heads": 1, "head_dim": 256, "lru_width": )" << width
         << R"(, "attention_window_size": 2048, "conv1d_width": 4, "logits_soft_cap": 30.0,)"
         << R"( "rms_norm_eps": 1e-06, "block_types": ["recurrent", "recurrent", "attention"],)"
         << R"( "partial_rotary_factor": 0.5, "rope_theta": 10000.0})";
    return parseModelConfig(json.str(), "synthetic " + name);
}

Result<std::vector<int64_t>> parseList(const Args& args, const std::string& name,
                                       std::vector<int64_t> fallback) {
    auto text = args.get(name);
    if (!text)
        return fallback;
    std::vector<int64_t> out;
    if (*text == "none" || text->empty())
        return out;
    auto tokens = parseTokenList(*text);
    if (!tokens)
        return makeError(ErrorCode::InvalidArgument, name + ": " + tokens.error().message);
    for (int32_t v : *tokens) {
        if (v <= 0)
            return makeError(ErrorCode::InvalidArgument, name + " values must be positive");
        out.push_back(v);
    }
    std::sort(out.begin(), out.end());
    return out;
}

// Moves `state` to `context` as if that many tokens had been read: the attention ring holds
// the last `window` positions with random keys and values, the recurrences random values.
void fillSyntheticState(State& state, int64_t context, std::mt19937& rng) {
    std::normal_distribution<float> dist(0.0f, 0.5f);
    for (State::RecurrentLayer& r : state.recurrentLayers()) {
        for (float& v : r.h) v = dist(rng);
        for (float& v : r.convTail) v = dist(rng);
    }
    for (State::AttentionLayer& a : state.attentionLayers()) {
        const int64_t window = static_cast<int64_t>(a.slotPositions.size());
        for (float& v : a.keys) v = dist(rng);
        for (float& v : a.values) v = dist(rng);
        for (int64_t p = std::max<int64_t>(0, context - window); p < context; ++p) {
            a.slotPositions[static_cast<size_t>(p % window)] = p;
        }
    }
    state.setPosition(context);
}

struct PrefillResult {
    int64_t tokens = 0;
    double tokensPerSecond = 0, gflops = 0, peakRatio = 0;
};
struct DecodeResult {
    int64_t context = 0;
    std::string howReached;
    double tokensPerSecond = 0, achievedGbps = 0, bandwidthRatio = 0;
    // Read probes right before and right after this context's timed steps (0: not taken), and
    // the ratio to the run's mean probe. bandwidthRatio uses the adjacent ones when both ran.
    double readBefore = 0, readAfter = 0, runBandwidthRatio = 0;
    std::optional<PairedSteps> paired;  // CPU: steps taken in turns with read passes
    int64_t stateBytes = 0;
    // GPU backends: compute dispatches per token, and whole-state copies between host and
    // device during the timed steps (0 when the state stays on the device).
    uint32_t dispatchesPerToken = 0, barriersPerToken = 0;
    uint64_t stateTransfers = 0;
    double hostRecordUs = 0;  // host time recording each token's command buffer
    double deviceWaitUs = 0;  // submit to completion per token
    // GPU backends: greedy steps (Model::stepGreedy, the argmax on the device), as the chat
    // decodes at temperature 0.
    double greedyTokensPerSecond = 0;
    // CPU, two or more contexts: steps again, taken in turns with the other contexts (0: not
    // measured), and its ratio to the first context's; per round, the first context's step
    // time over this context's, and their spread.
    double interleavedTokensPerSecond = 0, interleavedRatio = 0;
    std::vector<double> turnRatios;
    Spread turnSpread;
};

// Device time per op over some profiled decode steps (GPU backends).
struct OpProfileResult {
    int64_t context = 0;
    int64_t tokens = 0;
    std::vector<OpProfile> ops;
    double weightOpsGbps = 0;  // weight bytes per token / time of the ops that read weights
};

std::vector<int32_t> randomTokens(std::mt19937& rng, int64_t n, int64_t vocab) {
    std::uniform_int_distribution<int32_t> dist(3, static_cast<int32_t>(vocab - 1));
    std::vector<int32_t> out(static_cast<size_t>(n));
    for (int32_t& t : out) t = dist(rng);
    return out;
}

}  // namespace

int runBench(int argc, char** argv) {
    ArgSpec spec;
    spec.valued = {"--model",   "--synthetic", "--type",          "--backend",
                   "--device",  "--threads",   "--decode-tokens", "--contexts",
                   "--prefill", "--probe-mib", "--reach",         "--seed"};
    spec.flags = {"--json"};
    auto args = Args::parse(argc, argv, 2, spec);
    if (!args)
        return fail("bench", args.error().message);
    const bool synthetic = args->has("--synthetic");
    if (synthetic == args->has("--model"))
        return fail("bench", "give either --model PATH or --synthetic 2b|9b|demo");
    std::optional<WeightType> type;
    if (auto t = args->get("--type")) {
        type = parseWeightType(*t);
        if (!type)
            return fail("bench", "--type must be f32, bf16, f16, q8_0 or q4_0 (got '" + *t + "')");
    }
    auto threads = args->getInt("--threads", 0, 0, 1024);
    auto decodeTokens = args->getInt("--decode-tokens", 0, 0, 100000);
    auto probeMib = args->getInt("--probe-mib", 1024, 16, 65536);
    auto seed = args->getInt("--seed", 1, 0, INT32_MAX);
    if (!threads || !decodeTokens || !probeMib || !seed) {
        for (const auto* r : {&threads, &decodeTokens, &probeMib, &seed}) {
            if (!*r)
                return fail("bench", r->error().message);
        }
    }
    auto contexts = parseList(*args, "--contexts", {16, 1024, 2048, 8192, 32768});
    if (!contexts)
        return fail("bench", contexts.error().message);
    auto prefills = parseList(*args, "--prefill", {512, 4096});
    if (!prefills)
        return fail("bench", prefills.error().message);
    const std::string reach = args->get("--reach").value_or("auto");
    if (reach != "auto" && reach != "prefill" && reach != "synthetic")
        return fail("bench", "--reach must be auto, prefill or synthetic");

    LoadOptions load;
    load.threads = static_cast<int>(*threads);
    if (auto b = args->get("--backend"); b && *b == "vulkan") {
        load.backend = BackendKind::Vulkan;
        load.device = args->get("--device").value_or("");
    } else if (b && *b != "cpu") {
        return fail("bench", "--backend must be cpu or vulkan (got '" + *b + "')");
    }

    // The machine's bounds are measured before and after the runs (shared machines drift); the
    // ratios use the mean of the two.
    std::cerr << "bench: measuring memory read bandwidth and FMA peak (before)...\n";
    const std::optional<MachineProbe> probeBefore =
        probeInChild(static_cast<int>(*threads), *probeMib << 20);
    std::cerr << "bench: loading...\n";
    const auto loadStart = Clock::now();
    Result<std::unique_ptr<Model>> model = makeError(ErrorCode::Internal, "not loaded");
    std::string source;
    if (synthetic) {
        const std::string name = *args->get("--synthetic");
        auto config = syntheticConfig(name, *args);
        if (!config)
            return fail("bench", config.error().message);
        model = Model::createSynthetic(*config, type.value_or(WeightType::Q8_0),
                                       static_cast<uint64_t>(*seed), load);
        source = "synthetic " + name;
    } else {
        auto path = resolveModel(*args);
        if (!path)
            return fail("bench", path.error().message);
        load.quantize = type;
        model = Model::load(*path, load);
        source = path->string();
    }
    if (!model)
        return fail("bench", model.error().message);
    const double loadSeconds = secondsSince(loadStart);
    const int64_t hugePageBytes = anonHugePageBytes();
    Model& m = **model;
    const ModelInfo& info = m.info();
    const int64_t weightBytes = info.weightBytes;
    // Matrix flops per token: every non-embedding weight once (multiply + add); the LM head only
    // where logits are computed (every decode step, the last token of a prefill).
    const double flopsPerToken = 2.0 * static_cast<double>(info.nonEmbeddingParams);
    const double headFlops = 2.0 * static_cast<double>(info.embeddingParams);
    const int64_t steps =
        *decodeTokens > 0 ? *decodeTokens : (info.nonEmbeddingParams > 500'000'000 ? 8 : 64);
    std::mt19937 rng(static_cast<uint32_t>(*seed));

    std::vector<PrefillResult> prefillResults;
    for (int64_t n : *prefills) {
        std::cerr << "bench: prefill " << n << " tokens...\n";
        State state = m.newState();
        const auto tokens = randomTokens(rng, n, info.config.vocabSize);
        const auto start = Clock::now();
        auto out = m.prefill(state, tokens);
        if (!out)
            return fail("bench", out.error().message);
        const double s = secondsSince(start);
        PrefillResult r;
        r.tokens = n;
        r.tokensPerSecond = static_cast<double>(n) / s;
        r.gflops = (flopsPerToken * static_cast<double>(n) + headFlops) / s / 1e9;
        prefillResults.push_back(r);
    }

    std::cerr << (info.backend == BackendKind::Cpu ? "bench: tuning the decode prefetch...\n" : "");
    if (auto tuned = settleDecodeTuning(m, static_cast<int32_t>(info.config.bosId)); !tuned)
        return fail("bench", tuned.error().message);
    // Contexts in increasing order, each reached from the previous one.
    std::vector<DecodeResult> decodeResults;
    std::optional<OpProfileResult> opProfile;
    State state = m.newState();
    int64_t reached = 0;
    bool allReal = true;
    std::vector<State> contextStates;     // each context's state after its timed steps
    std::vector<int32_t> contextTokens;   // and the token to feed it next
    const double affordableFlops = 3e12;  // about half a minute of prefill on a small machine
    for (int64_t context : *contexts) {
        const int64_t delta = context - reached;
        const bool byPrefill =
            reach == "prefill" || (reach == "auto" && allReal &&
                                   flopsPerToken * static_cast<double>(delta) <= affordableFlops);
        if (byPrefill) {
            if (delta > 0) {
                std::cerr << "bench: prefill to context " << context << "...\n";
                const auto tokens = randomTokens(rng, delta, info.config.vocabSize);
                ForwardOptions fo;
                fo.chunkSize = 512;
                if (auto out = m.prefill(state, tokens, fo); !out)
                    return fail("bench", out.error().message);
            }
        } else {
            allReal = false;
            fillSyntheticState(state, context, rng);
        }
        reached = context;
        std::cerr << "bench: decode " << steps << " tokens at context " << context << "...\n";
        State work = state.clone();
        int32_t token = randomTokens(rng, 1, info.config.vocabSize)[0];
        // A shared machine's bandwidth can swing by a factor of two within minutes: this
        // context's speed is also rated against read probes taken right next to it.
        const std::optional<MachineProbe> adjacentBefore =
            probeInChild(static_cast<int>(*threads), *probeMib << 20, true);
        // The first step is not timed: it pages in, warms the caches and takes the cost of the
        // probe's fork (pages shared with the child: on a 2-core Zen 5 VM, 2B q4_0, the first step
        // after the first fork took 300 ms, after later ones 50, against 40 for the next ones).
        if (auto warm = m.step(work, token); !warm)
            return fail("bench", warm.error().message);
        const BackendCounters before = m.backendCounters();
        const auto start = Clock::now();
        for (int64_t i = 0; i < steps; ++i) {
            auto logits = m.step(work, token);
            if (!logits)
                return fail("bench", logits.error().message);
            token = static_cast<int32_t>(
                std::max_element(logits->begin(), logits->begin() + info.config.vocabSize) -
                logits->begin());
        }
        const double s = secondsSince(start);
        const std::optional<MachineProbe> adjacentAfter =
            probeInChild(static_cast<int>(*threads), *probeMib << 20, true);
        DecodeResult d;
        if (info.backend == BackendKind::Cpu) {
            // The same number of steps again, each followed by a read pass in a child process,
            // in the way the probe reads (plain, and prefetching as its best pass did).
            std::cerr << "bench: decode " << steps << " tokens at context " << context
                      << " in turns with read passes...\n";
            ReadPartner partner(static_cast<int>(*threads), *probeMib << 20);
            State paired = work.clone();
            const int64_t ahead = adjacentBefore ? adjacentBefore->prefetchAheadBytes : 0;
            const int64_t nearAhead = adjacentBefore ? adjacentBefore->prefetchNearBytes : 0;
            d.paired = pairStepsWithReads(m, paired, token, steps, partner, ahead, nearAhead);
        }
        d.context = context;
        d.readBefore = adjacentBefore ? adjacentBefore->readBytesPerSecond : 0.0;
        d.readAfter = adjacentAfter ? adjacentAfter->readBytesPerSecond : 0.0;
        d.howReached = byPrefill ? "prefill" : "synthetic state";
        d.tokensPerSecond = static_cast<double>(steps) / s;
        d.achievedGbps = static_cast<double>(weightBytes) * d.tokensPerSecond / 1e9;
        d.stateBytes = static_cast<int64_t>(work.bytes());
        const BackendCounters after = m.backendCounters();
        d.dispatchesPerToken = after.lastDispatches;
        d.barriersPerToken = after.lastBarriers;
        d.stateTransfers =
            after.stateUploads + after.stateDownloads - before.stateUploads - before.stateDownloads;
        d.hostRecordUs =
            (after.recordSeconds - before.recordSeconds) * 1e6 / static_cast<double>(steps);
        d.deviceWaitUs =
            (after.waitSeconds - before.waitSeconds) * 1e6 / static_cast<double>(steps);
        if (info.backend != BackendKind::Cpu) {
            const int32_t limit = static_cast<int32_t>(info.config.vocabSize);
            State greedyState = state.clone();
            if (auto warm = m.stepGreedy(greedyState, token, limit); !warm)
                return fail("bench", warm.error().message);
            const auto greedyStart = Clock::now();
            for (int64_t i = 0; i < steps; ++i) {
                auto next = m.stepGreedy(greedyState, token, limit);
                if (!next)
                    return fail("bench", next.error().message);
                token = next->id;
            }
            d.greedyTokensPerSecond = static_cast<double>(steps) / secondsSince(greedyStart);
        }
        // Time per op, once (at the first context), in steps that are not the timed ones:
        // device timestamps cost a little, and so do the CPU's clock reads between stages.
        if (!opProfile && m.setProfiling(true)) {
            // One step first, then the measurements cleared: that step takes the cost of the
            // probe's fork (see the warm step above), which fell on the stages that write to
            // the state first (2 of 53 ms per token in the RG-LRU scan on the 2B model).
            if (auto warm = m.step(work, token); !warm)
                return fail("bench", warm.error().message);
            m.setProfiling(true);
            OpProfileResult p;
            p.context = context;
            p.tokens = std::min<int64_t>(steps, 16);
            for (int64_t i = 0; i < p.tokens; ++i) {
                auto logits = m.step(work, token);
                if (!logits)
                    return fail("bench", logits.error().message);
            }
            p.ops = m.backendCounters().opProfile;
            m.setProfiling(false);
            double weightSeconds = 0;
            for (const OpProfile& op : p.ops) {
                if (op.op.starts_with("matvec") || op.op.starts_with("matmul.") ||
                    op.op == "block_diag_matvec" || op.op == "embed_gather") {
                    weightSeconds += op.seconds;
                }
            }
            if (weightSeconds > 0) {
                p.weightOpsGbps = static_cast<double>(weightBytes) * static_cast<double>(p.tokens) /
                                  weightSeconds / 1e9;
            }
            opProfile = std::move(p);
        }
        decodeResults.push_back(d);
        if (info.backend == BackendKind::Cpu) {
            contextStates.push_back(std::move(work));
            contextTokens.push_back(token);
        }
    }

    // Flatness across contexts. Contexts timed one after another each meet the machine as it is
    // then: on a shared VM two runs of one context a minute apart differed by 13%. So steps
    // again, one step per context in turn (rounds of a few steps still drifted by 6% between
    // two runs), compare them under the same conditions; and more rounds than the decode steps
    // where they are cheap: with 16 rounds the 2B q4_0 ratio of context 32k to 1k read 0.955
    // in one run, with 64 in the next 1.007. CPU only: on a GPU backend switching states would
    // copy them.
    int64_t turnRounds = 0;
    if (contextStates.size() > 1) {
        std::cerr << "bench: decode one token per context in turns, " << steps
                  << " rounds or more...\n";
        auto turns =
            takeTurns(m, contextStates, contextTokens, steps, kMaxTurnRounds, kTurnBudgetSeconds);
        if (!turns)
            return fail("bench", turns.error().message);
        turnRounds = turns->rounds;
        for (size_t c = 0; c < contextStates.size(); ++c) {
            DecodeResult& d = decodeResults[c];
            d.interleavedTokensPerSecond = turns->tokensPerSecond[c];
            d.interleavedRatio = d.interleavedTokensPerSecond / turns->tokensPerSecond[0];
            d.turnRatios = std::move(turns->roundRatios[c]);
            d.turnSpread = turns->ratioSpread[c];
        }
    }

    // The machine's bounds last, so that the probe's 1 GiB buffer is not in the model's peak RSS.
    const int64_t peakRss = peakRssBytes();
    std::cerr << "bench: measuring memory read bandwidth and FMA peak (after)...\n";
    const MachineProbe after = probeMachine(load.threads, *probeMib << 20);
    MachineProbe probe = after;
    if (probeBefore) {
        probe.readBytesPerSecond = (after.readBytesPerSecond + probeBefore->readBytesPerSecond) / 2;
        probe.fmaFlopsPerSecond = (after.fmaFlopsPerSecond + probeBefore->fmaFlopsPerSecond) / 2;
    }
    for (PrefillResult& r : prefillResults) r.peakRatio = r.gflops * 1e9 / probe.fmaFlopsPerSecond;
    for (DecodeResult& d : decodeResults) {
        d.runBandwidthRatio = d.achievedGbps * 1e9 / probe.readBytesPerSecond;
        const bool adjacent = d.readBefore > 0 && d.readAfter > 0;
        d.bandwidthRatio = adjacent ? d.achievedGbps * 1e9 / ((d.readBefore + d.readAfter) / 2)
                                    : d.runBandwidthRatio;
    }

    const BackendCounters bc = m.backendCounters();  // the decode prefetch in use
    nlohmann::ordered_json j;
    j["model"] = source;
    j["weight_types"] = info.weightTypes;
    j["backend"] = backendKindName(info.backend);
    if (!info.device.empty())
        j["device"] = info.device;
    j["threads"] = probe.threads;
    j["cpu_kernels"] = probe.isa;
    if (info.backend == BackendKind::Cpu) {
        j["decode_prefetch_bytes"] = bc.decodePrefetchBytes;
        j["decode_prefetch_near_bytes"] = bc.decodePrefetchNearBytes;
        j["decode_prefetch_tuning_rounds"] = bc.decodePrefetchTuningRounds;
    }
    j["measured_read_gbps"] = probe.readBytesPerSecond / 1e9;
    j["measured_fma_gflops"] = probe.fmaFlopsPerSecond / 1e9;
    // Each probe on its own: how much the machine drifted during the run.
    // read_gbps is the faster of a plain and a software-prefetched read (see MachineProbe).
    nlohmann::ordered_json probes;
    const auto probeJson = [](const MachineProbe& p) {
        return nlohmann::ordered_json{{"read_gbps", p.readBytesPerSecond / 1e9},
                                      {"read_gbps_plain", p.plainReadBytesPerSecond / 1e9},
                                      {"read_gbps_prefetch", p.prefetchReadBytesPerSecond / 1e9},
                                      {"read_prefetch_ahead_bytes", p.prefetchAheadBytes},
                                      {"read_prefetch_near_bytes", p.prefetchNearBytes},
                                      {"fma_gflops", p.fmaFlopsPerSecond / 1e9}};
    };
    if (probeBefore)
        probes["before"] = probeJson(*probeBefore);
    probes["after"] = probeJson(after);
    j["probes"] = probes;
    j["load_seconds"] = loadSeconds;
    j["weight_bytes_per_token"] = weightBytes;
    j["anon_huge_page_bytes"] = hugePageBytes;
    j["parameters"] = info.embeddingParams + info.nonEmbeddingParams;
    j["prefill"] = nlohmann::json::array();
    for (const PrefillResult& r : prefillResults) {
        j["prefill"].push_back({{"tokens", r.tokens},
                                {"tokens_per_s", r.tokensPerSecond},
                                {"gflops", r.gflops},
                                {"peak_ratio", r.peakRatio}});
    }
    j["decode_tokens"] = steps;
    j["decode"] = nlohmann::json::array();
    for (const DecodeResult& d : decodeResults) {
        j["decode"].push_back({{"context", d.context},
                               {"how_reached", d.howReached},
                               {"tokens_per_s", d.tokensPerSecond},
                               {"achieved_gbps", d.achievedGbps},
                               {"bandwidth_ratio", d.bandwidthRatio},
                               {"read_gbps_before", d.readBefore / 1e9},
                               {"read_gbps_after", d.readAfter / 1e9},
                               {"bandwidth_ratio_to_run_probes", d.runBandwidthRatio},
                               {"state_bytes", d.stateBytes}});
        if (info.backend != BackendKind::Cpu) {
            j["decode"].back()["dispatches_per_token"] = d.dispatchesPerToken;
            j["decode"].back()["barriers_per_token"] = d.barriersPerToken;
            j["decode"].back()["state_transfers"] = d.stateTransfers;
            j["decode"].back()["host_record_us_per_token"] = d.hostRecordUs;
            j["decode"].back()["device_wait_us_per_token"] = d.deviceWaitUs;
            j["decode"].back()["greedy_tokens_per_s"] = d.greedyTokensPerSecond;
        }
        if (d.paired) {
            j["decode"].back()["paired_bandwidth_ratio"] = d.paired->medianRatio;
            j["decode"].back()["paired_ratio_quartiles"] = {d.paired->q1, d.paired->q3};
            j["decode"].back()["paired_step_gbps"] = d.paired->stepGbps;
            j["decode"].back()["paired_read_gbps"] = d.paired->readGbps;
        }
        if (d.interleavedTokensPerSecond > 0) {
            j["decode"].back()["interleaved_tokens_per_s"] = d.interleavedTokensPerSecond;
            j["decode"].back()["interleaved_ratio_to_first_context"] = d.interleavedRatio;
            j["decode"].back()["interleaved_rounds"] = turnRounds;
            j["decode"].back()["interleaved_round_ratios"] = d.turnRatios;
            j["decode"].back()["interleaved_ratio_median"] = d.turnSpread.median;
            j["decode"].back()["interleaved_ratio_quartiles"] = {d.turnSpread.q1, d.turnSpread.q3};
        }
    }
    if (opProfile) {
        nlohmann::ordered_json ops = nlohmann::json::array();
        const double n = static_cast<double>(opProfile->tokens);
        for (const OpProfile& op : opProfile->ops) {
            ops.push_back({{"op", op.op},
                           {"us_per_token", op.seconds * 1e6 / n},
                           {"dispatches_per_token", static_cast<double>(op.dispatches) / n}});
        }
        j["op_profile"] = {{"context", opProfile->context},
                           {"tokens", opProfile->tokens},
                           {"weight_ops_gbps", opProfile->weightOpsGbps},
                           {"ops", ops}};
    }
    j["peak_rss_bytes"] = peakRss;
    if (args->has("--json")) {
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    char line[256];
    std::cout << "model:      " << source << " (" << info.weightTypes << ", "
              << backendKindName(info.backend) << (info.device.empty() ? "" : ", " + info.device)
              << ")\n";
    std::snprintf(line, sizeof line,
                  "machine:    %d threads, %s kernels, read %.1f GB/s, FMA peak %.1f GFLOP/s\n",
                  probe.threads, probe.isa.c_str(), probe.readBytesPerSecond / 1e9,
                  probe.fmaFlopsPerSecond / 1e9);
    std::cout << line;
    if (probeBefore) {
        std::snprintf(
            line, sizeof line,
            "            (before / after the runs: read %.1f / %.1f GB/s, FMA %.1f / %.1f "
            "GFLOP/s)\n",
            probeBefore->readBytesPerSecond / 1e9, after.readBytesPerSecond / 1e9,
            probeBefore->fmaFlopsPerSecond / 1e9, after.fmaFlopsPerSecond / 1e9);
        std::cout << line;
    }
    char nearText[64] = "";
    if (after.prefetchNearBytes > 0) {
        std::snprintf(nearText, sizeof nearText, " into L2 and %lld into L1",
                      static_cast<long long>(after.prefetchNearBytes));
    }
    std::snprintf(line, sizeof line,
                  "            (read: the faster of plain and prefetched loads, %.1f / %.1f "
                  "GB/s after the runs, prefetching %lld bytes ahead%s)\n",
                  after.plainReadBytesPerSecond / 1e9, after.prefetchReadBytesPerSecond / 1e9,
                  static_cast<long long>(after.prefetchAheadBytes), nearText);
    std::cout << line;
    if (info.backend == BackendKind::Cpu) {
        const std::string how = bc.decodePrefetchTuningRounds < 0
                                    ? "fixed by GRIFFIN_DECODE_PREFETCH(_NEAR) or _TUNE=0"
                                    : "tuned over " +
                                          std::to_string(bc.decodePrefetchTuningRounds) +
                                          " rounds of decode steps";
        std::snprintf(line, sizeof line,
                      "            (decode kernels prefetch %lld bytes ahead into L2 and %lld into "
                      "L1 in software, %s)\n",
                      static_cast<long long>(bc.decodePrefetchBytes),
                      static_cast<long long>(bc.decodePrefetchNearBytes), how.c_str());
        std::cout << line;
    }
    std::snprintf(line, sizeof line,
                  "load:       %.2f s, %.1f MB of weights read per token, %.1f MB of memory in "
                  "huge pages\n",
                  loadSeconds, static_cast<double>(weightBytes) / 1e6,
                  static_cast<double>(std::max<int64_t>(hugePageBytes, 0)) / 1e6);
    std::cout << line;
    for (const PrefillResult& r : prefillResults) {
        std::snprintf(line, sizeof line,
                      "prefill %6lld tokens: %9.1f tok/s  %7.1f GFLOP/s  %.2f of FMA peak\n",
                      static_cast<long long>(r.tokens), r.tokensPerSecond, r.gflops, r.peakRatio);
        std::cout << line;
    }
    for (const DecodeResult& d : decodeResults) {
        std::snprintf(line, sizeof line,
                      "decode at %6lld: %9.2f tok/s  %7.2f GB/s  %.2f of read bandwidth  state "
                      "%lld bytes (%s)\n",
                      static_cast<long long>(d.context), d.tokensPerSecond, d.achievedGbps,
                      d.bandwidthRatio, static_cast<long long>(d.stateBytes), d.howReached.c_str());
        std::cout << line;
        if (d.readBefore > 0 && d.readAfter > 0) {
            std::snprintf(line, sizeof line,
                          "                read probes next to it: %.1f / %.1f GB/s (%.2f of the "
                          "run's before / after mean)\n",
                          d.readBefore / 1e9, d.readAfter / 1e9, d.runBandwidthRatio);
            std::cout << line;
        }
        if (d.paired && !d.paired->stepGbps.empty()) {
            std::snprintf(line, sizeof line,
                          "                in turns with read passes: %.2f of the read right "
                          "after each step (median of %zu, quartiles %.2f-%.2f)\n",
                          d.paired->medianRatio, d.paired->stepGbps.size(), d.paired->q1,
                          d.paired->q3);
            std::cout << line;
        }
        if (d.interleavedTokensPerSecond > 0) {
            std::snprintf(line, sizeof line,
                          "                in turns with the other contexts: %.2f tok/s, %.3f of "
                          "context %lld (per round: median %.3f, quartiles %.3f-%.3f, %lld "
                          "rounds)\n",
                          d.interleavedTokensPerSecond, d.interleavedRatio,
                          static_cast<long long>(decodeResults[0].context), d.turnSpread.median,
                          d.turnSpread.q1, d.turnSpread.q3, static_cast<long long>(turnRounds));
            std::cout << line;
        }
        if (info.backend != BackendKind::Cpu) {
            std::snprintf(line, sizeof line,
                          "                %u dispatches and %u barriers per token, %llu state "
                          "copies while decoding, %.0f us recording + %.0f us on the device per "
                          "token\n",
                          d.dispatchesPerToken, d.barriersPerToken,
                          static_cast<unsigned long long>(d.stateTransfers), d.hostRecordUs,
                          d.deviceWaitUs);
            std::cout << line;
            std::snprintf(line, sizeof line,
                          "                greedy (argmax on the device): %.2f tok/s\n",
                          d.greedyTokensPerSecond);
            std::cout << line;
        }
    }
    if (opProfile) {
        const double n = static_cast<double>(opProfile->tokens);
        double total = 0;
        for (const OpProfile& op : opProfile->ops) total += op.seconds;
        std::snprintf(line, sizeof line,
                      "%s time per decode token by op (%lld tokens at context %lld; weight "
                      "reads at %.2f GB/s):\n",
                      info.backend == BackendKind::Cpu ? "wall" : "device",
                      static_cast<long long>(opProfile->tokens),
                      static_cast<long long>(opProfile->context), opProfile->weightOpsGbps);
        std::cout << line;
        for (const OpProfile& op : opProfile->ops) {
            std::snprintf(line, sizeof line, "  %-28s %9.1f us  %5.1f %%  %6.1f dispatches\n",
                          op.op.c_str(), op.seconds * 1e6 / n,
                          total > 0 ? 100.0 * op.seconds / total : 0.0,
                          static_cast<double>(op.dispatches) / n);
            std::cout << line;
        }
    }
    std::snprintf(line, sizeof line, "peak RSS:   %.1f MB\n", static_cast<double>(peakRss) / 1e6);
    std::cout << line;
    return 0;
}

}  // namespace griffin::cli
