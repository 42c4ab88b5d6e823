// SPDX-License-Identifier: Apache-2.0
// Seeded generated documents for the summarisation tests: Markdown with sections, plain text
// with long one-line paragraphs, and text in scripts without spaces (CJK, emoji).
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace griffin::test {

// Words the demo model knows; sentences of 4-12 of them.
inline std::string generatedSentence(std::mt19937& rng) {
    static const std::vector<std::string> kWords = {
        "the",   "river",  "runs",  "past",   "an",      "old",   "house",  "where",
        "a",     "friend", "keeps", "bright", "light",   "music", "water",  "garden",
        "stone", "bird",   "sings", "every",  "morning", "story", "window", "tree",
        "café",  "naïve",  "city",  "small",  "quiet",   "of",    "and",    "mountain"};
    std::uniform_int_distribution<size_t> word(0, kWords.size() - 1);
    std::uniform_int_distribution<int> count(4, 12);
    std::string s;
    const int n = count(rng);
    for (int i = 0; i < n; ++i) s += (i ? " " : "") + kWords[word(rng)];
    s[0] = static_cast<char>(s[0] - 'a' + 'A');
    return s + (rng() % 5 == 0 ? "!" : ".");
}

inline std::string generatedParagraph(std::mt19937& rng, int sentences) {
    std::string p;
    for (int i = 0; i < sentences; ++i) p += (i ? " " : "") + generatedSentence(rng);
    return p;
}

// Markdown: `sections` sections of a heading and 1-4 paragraphs of 1-6 sentences; some
// paragraphs wrap over several lines, some are one long line.
inline std::string generatedMarkdown(uint32_t seed, int sections) {
    std::mt19937 rng(seed);
    std::string doc = "# Generated document " + std::to_string(seed) + "\n\n";
    for (int s = 0; s < sections; ++s) {
        doc += "## Section " + std::to_string(s + 1) + "\n\n";
        const int paragraphs = 1 + static_cast<int>(rng() % 4);
        for (int p = 0; p < paragraphs; ++p) {
            std::string para = generatedParagraph(rng, 1 + static_cast<int>(rng() % 6));
            if (rng() % 2 == 0) {  // wrap at ~60 columns
                for (size_t at = 60; at < para.size(); at += 60) {
                    const size_t space = para.find(' ', at);
                    if (space == std::string::npos)
                        break;
                    para[space] = '\n';
                    at = space;
                }
            }
            doc += para + "\n\n";
        }
    }
    return doc;
}

// Plain text of `paragraphs` one-line paragraphs of `sentences` sentences each.
inline std::string generatedPlainText(uint32_t seed, int paragraphs, int sentences) {
    std::mt19937 rng(seed);
    std::string doc;
    for (int p = 0; p < paragraphs; ++p) doc += generatedParagraph(rng, sentences) + "\n\n";
    return doc;
}

// Text without spaces in multi-byte characters (2-, 3- and 4-byte UTF-8), with 。 sentence ends.
inline std::string generatedWideText(uint32_t seed, int characters) {
    static const std::vector<std::string> kChars = {"日", "本", "語", "文", "章", "é", "ß",
                                                    "😀",  "🌍",  "한", "국", "ü",  "ж", "中"};
    std::mt19937 rng(seed);
    std::string doc;
    for (int i = 0; i < characters; ++i) {
        doc += kChars[rng() % kChars.size()];
        if (rng() % 17 == 0)
            doc += "。";
    }
    return doc + "\n";
}

// Prose in one of the languages the summary-language detector knows ("english", "german",
// "french", "spanish", "italian", "portuguese", "dutch"): `paragraphs` paragraphs of 3-6
// sentences drawn from eight everyday sentences of that language. Empty for another name.
inline std::string generatedProse(const std::string& language, uint32_t seed, int paragraphs) {
    static const std::map<std::string, std::vector<std::string>> kSentences = {
        {"english",
         {"The river runs past the old house in the valley.",
          "It was a quiet morning and the birds were singing.",
          "They have been working on this project for many years.",
          "The report shows that the costs are higher than expected.",
          "This is one of the most important results of the study.",
          "You can find the answer in the second part of the book.",
          "Most of the water comes from the mountains in the north.",
          "There is a small garden behind the school with a bench."}},
        {"german",
         {"Der Fluss fließt an dem alten Haus im Tal vorbei.",
          "Es war ein ruhiger Morgen und die Vögel sangen.",
          "Sie arbeiten seit vielen Jahren an diesem Projekt.",
          "Der Bericht zeigt, dass die Kosten höher sind als erwartet.",
          "Das ist eines der wichtigsten Ergebnisse der Studie.",
          "Die Antwort findet man im zweiten Teil des Buches.",
          "Das meiste Wasser kommt aus den Bergen im Norden.",
          "Hinter der Schule gibt es einen kleinen Garten mit einer Bank."}},
        {"french",
         {"La rivière passe devant la vieille maison dans la vallée.",
          "C'était un matin calme et les oiseaux chantaient.",
          "Ils travaillent sur ce projet depuis de nombreuses années.",
          "Le rapport montre que les coûts sont plus élevés que prévu.",
          "C'est un des résultats les plus importants de l'étude.",
          "On trouve la réponse dans la deuxième partie du livre.",
          "La plupart de l'eau vient des montagnes du nord.",
          "Il y a un petit jardin derrière l'école avec un banc."}},
        {"spanish",
         {"El río pasa junto a la vieja casa en el valle.",
          "Era una mañana tranquila y los pájaros cantaban.",
          "Ellos trabajan en este proyecto desde hace muchos años.",
          "El informe muestra que los costos son más altos de lo esperado.",
          "Es uno de los resultados más importantes del estudio.",
          "La respuesta está en la segunda parte del libro.",
          "La mayor parte del agua viene de las montañas del norte.",
          "Hay un pequeño jardín detrás de la escuela con un banco."}},
        {"italian",
         {"Il fiume passa accanto alla vecchia casa nella valle.",
          "Era una mattina tranquilla e gli uccelli cantavano.",
          "Lavorano a questo progetto da molti anni.",
          "Il rapporto mostra che i costi sono più alti del previsto.",
          "Questo è uno dei risultati più importanti dello studio.",
          "La risposta si trova nella seconda parte del libro.",
          "La maggior parte dell'acqua viene dalle montagne del nord.",
          "C'è un piccolo giardino dietro la scuola con una panchina."}},
        {"portuguese",
         {"O rio passa ao lado da velha casa no vale.",
          "Era uma manhã tranquila e os pássaros cantavam.",
          "Eles trabalham neste projeto há muitos anos.",
          "O relatório mostra que os custos são mais altos do que o esperado.",
          "Este é um dos resultados mais importantes do estudo.",
          "A resposta está na segunda parte do livro.",
          "A maior parte da água vem das montanhas do norte.",
          "Há um pequeno jardim atrás da escola com um banco."}},
        {"dutch",
         {"De rivier stroomt langs het oude huis in het dal.",
          "Het was een rustige ochtend en de vogels zongen.",
          "Zij werken al vele jaren aan dit project.",
          "Het rapport laat zien dat de kosten hoger zijn dan verwacht.",
          "Dit is een van de belangrijkste resultaten van het onderzoek.",
          "Het antwoord staat in het tweede deel van het boek.",
          "Het meeste water komt uit de bergen in het noorden.",
          "Er is een kleine tuin achter de school met een bank."}},
    };
    const auto it = kSentences.find(language);
    if (it == kSentences.end())
        return {};
    std::mt19937 rng(seed);
    std::string doc;
    for (int p = 0; p < paragraphs; ++p) {
        const int sentences = 3 + static_cast<int>(rng() % 4);
        for (int i = 0; i < sentences; ++i)
            doc += (i ? " " : "") + it->second[rng() % it->second.size()];
        doc += "\n\n";
    }
    return doc;
}

}  // namespace griffin::test
