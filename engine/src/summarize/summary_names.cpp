// SPDX-License-Identifier: Apache-2.0
// The words of the summarisation enums, as the CLI and the JSON spell them.
#include "griffin/summarize.h"

namespace griffin {

const char* summaryStrategyName(SummaryStrategy s) {
    switch (s) {
        case SummaryStrategy::Auto:
            return "auto";
        case SummaryStrategy::Stream:
            return "stream";
        case SummaryStrategy::MapReduce:
            return "map-reduce";
        case SummaryStrategy::Refine:
            return "refine";
    }
    return "?";
}

std::optional<SummaryStrategy> parseSummaryStrategy(std::string_view name) {
    for (SummaryStrategy s : {SummaryStrategy::Auto, SummaryStrategy::Stream,
                              SummaryStrategy::MapReduce, SummaryStrategy::Refine}) {
        if (name == summaryStrategyName(s))
            return s;
    }
    return std::nullopt;
}

const char* summaryLengthName(SummaryLength l) {
    switch (l) {
        case SummaryLength::Short:
            return "short";
        case SummaryLength::Page:
            return "page";
        case SummaryLength::Bullets:
            return "bullets";
        case SummaryLength::Detailed:
            return "detailed";
    }
    return "?";
}

std::optional<SummaryLength> parseSummaryLength(std::string_view name) {
    for (SummaryLength l : {SummaryLength::Short, SummaryLength::Page, SummaryLength::Bullets,
                            SummaryLength::Detailed}) {
        if (name == summaryLengthName(l))
            return l;
    }
    return std::nullopt;
}

const char* summaryPhaseName(SummaryPhase p) {
    switch (p) {
        case SummaryPhase::Reading:
            return "reading";
        case SummaryPhase::Prefilling:
            return "prefilling";
        case SummaryPhase::Summarizing:
            return "summarizing";
        case SummaryPhase::Combining:
            return "combining";
        case SummaryPhase::Finishing:
            return "finishing";
        case SummaryPhase::Done:
            return "done";
    }
    return "?";
}

}  // namespace griffin
