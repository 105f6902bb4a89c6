"""Rebuild the sentence corpora in assets/corpora.

The shipped model's train / valid / test splits and the sentence-kind map come from the Tatoeba
Project's English sentences (../shared/data/tatoeba, CC BY 2.0 FR; `--only training`). The other
labelled maps and the Train page's tiny corpus come from Debian packages (`--only maps`).
Sources (licences in assets/corpora/README.md and LICENSES.md):
  tatoeba   modern everyday sentences                      ../shared/data/tatoeba/sentences.txt.gz
  wordnet   WordNet 3.0 example sentences and glosses     apt: wordnet-base
  fortunes  BSD fortune cookie files                       apt: fortunes fortunes-min
  novels    3 novels of r-cran-tidytext + Austen's 6        apt-get download, unpacked (no R)
  bible     King James Version verses                      apt: bible-kjv

    python scripts/build_corpora.py --out assets/corpora --seed 0              # both parts
    python scripts/build_corpora.py --only training                             # Tatoeba only
"""
import argparse
import collections
import csv
import gzip
import random
import re
import struct
import subprocess
import sys
import warnings
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for vae.tokenizer, run from anywhere

WORDNET_DIR = Path("/usr/share/wordnet")
FORTUNE_DIR = Path("/usr/share/games/fortunes")
SKIP_FORTUNES = {"art", "ascii-art", "translate-me", "ethnic"}  # pictures, not English, slurs
R_SITE = "usr/lib/R/site-library"
COPYRIGHT_FILES = {  # notices that must travel with the derived files
    "WordNet 3.0 (wordnet-base)": "/usr/share/doc/wordnet-base/copyright",
    "fortunes (fortunes, fortunes-min)": "/usr/share/doc/fortunes/copyright",
    "King James Bible (bible-kjv-text)": "/usr/share/doc/bible-kjv-text/copyright",
    "tidytext (r-cran-tidytext)": "usr/share/doc/r-cran-tidytext/copyright",
    "janeaustenr (r-cran-janeaustenr)": "usr/share/doc/r-cran-janeaustenr/copyright",
}
MIN_WORDS, MAX_WORDS = 3, 30
VOCAB_SIZES = (10_000, 15_000, 20_000, 30_000)  # the held-out <unk> share is printed for each
N_HELDOUT = 2000  # sentences held out of the maps (they were once the old model's test and valid)
# No source may be more than this share of the corpus. At 0.30 the corpus is only ~112k sentences
# (fortunes and the Bible give ~22k each), so WordNet glosses get a little more room.
MAX_SHARE = 0.40

# The 45 standard WordNet lexicographer files, indexed by the number in field 2 of a data line
# (the table of `man 5 lexnames`; the lexnames file itself is not installed by Debian).
LEXNAMES = """adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute
noun.body noun.cognition noun.communication noun.event noun.feeling noun.food noun.group
noun.location noun.motive noun.object noun.person noun.phenomenon noun.plant noun.possession
noun.process noun.quantity noun.relation noun.shape noun.state noun.substance noun.time verb.body
verb.change verb.cognition verb.communication verb.competition verb.consumption verb.contact
verb.creation verb.emotion verb.motion verb.perception verb.possession verb.social verb.stative
verb.weather adj.ppl""".split()
# Concrete categories with enough example sentences. noun.food, noun.animal, noun.plant and
# verb.weather have under 100 examples each in WordNet 3.0, too few for a balanced map.
TOPICS = ["noun.artifact", "noun.person", "noun.location", "noun.time", "noun.communication",
          "noun.event", "verb.motion", "verb.body", "verb.competition", "verb.emotion",
          "verb.consumption", "verb.perception"]

NOVEL_AUTHORS = {"Great Expectations": "Dickens", "The War of the Worlds": "Wells",
                 "Twenty Thousand Leagues under the Sea": "Verne"}  # tidytext's 4th is Austen's
AUSTEN_NOVELS = ["emma", "mansfieldpark", "northangerabbey", "persuasion", "prideprejudice",
                 "sensesensibility"]
BIBLE_GROUPS = {
    "law": "Genesis|Exodus|Leviticus|Numbers|Deuteronomy",
    # Acts is the New Testament's history book
    "history": ("Joshua|Judges|Ruth|1 Samuel|2 Samuel|1 Kings|2 Kings|1 Chronicles|2 Chronicles"
                "|Ezra|Nehemiah|Esther|Acts"),
    "poetry": "Job|Psalms|Proverbs|Ecclesiastes|Song of Solomon",
    "prophets": ("Isaiah|Jeremiah|Lamentations|Ezekiel|Daniel|Hosea|Joel|Amos|Obadiah|Jonah"
                 "|Micah|Nahum|Habakkuk|Zephaniah|Haggai|Zechariah|Malachi"),
    "gospels": "Matthew|Mark|Luke|John",
    "epistles": ("Romans|1 Corinthians|2 Corinthians|Galatians|Ephesians|Philippians|Colossians"
                 "|1 Thessalonians|2 Thessalonians|1 Timothy|2 Timothy|Titus|Philemon|Hebrews"
                 "|James|1 Peter|2 Peter|1 John|2 John|3 John|Jude"),
    "revelation": "Revelation",
}
BOOK_GROUP = {book: group for group, books in BIBLE_GROUPS.items() for book in books.split("|")}

# A sentence with its provenance; label / detail depend on the source:
# wordnet: lexfile / example|gloss   fortunes: category / ""
# novels: author / title             bible: book group / book
Record = collections.namedtuple("Record", "text source label detail")

# -----------------------------------------------------------------------------
# parsers: plain functions on strings, so the tests need no installed package


def parse_wordnet_data(lines):
    """Lines of a WordNet data.* file -> [(lexfile_name, "gloss"|"example", text)]."""
    out = []
    for line in lines:
        if line.startswith("  ") or " | " not in line:  # the licence header is indented
            continue
        fields, gloss = line.split(" | ", 1)
        lexfile = LEXNAMES[int(fields.split()[1])]
        definition = gloss.split('"', 1)[0].strip().rstrip(";").strip()
        if definition:
            out.append((lexfile, "gloss", definition))
        out += [(lexfile, "example", ex.strip()) for ex in re.findall(r'"([^"]+)"', gloss)]
    return out


def join_paragraphs(lines):
    """Join line-wrapped text into paragraphs; a blank line ends a paragraph."""
    paragraphs, current = [], []
    for line in lines:
        if line.strip():
            current.append(line.strip())
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return paragraphs


ABBREVIATIONS = {"mr", "mrs", "messrs", "dr", "st", "mme", "mlle", "capt", "col", "gen", "lt",
                 "rev", "prof", "sr", "jr", "esq", "hon", "vol", "ch", "viz", "vs", "cf", "mt"}
# end punctuation, any closing quotes/brackets, space, then what can start a sentence
SENTENCE_END = re.compile(r"""[.!?]+["')\]]*\s+(?=["'(\[]*[A-Z0-9])""")


def split_sentences(paragraph):
    """Split prose at . ! ? unless the period ends a title (Mr.) or an initial (J.)."""
    sentences, start = [], 0
    for m in SENTENCE_END.finditer(paragraph):
        if paragraph[m.start()] == ".":
            word = paragraph[start:m.start()].split()[-1:] or [""]
            word = word[0].lstrip("\"'([")
            if (word.lower() in ABBREVIATIONS or "." in word
                    or (len(word) == 1 and word.isupper() and word != "I")):
                continue
        sentences.append(paragraph[start:m.end()].strip())
        start = m.end()
    tail = paragraph[start:].strip()
    return sentences + [tail] if tail else sentences


def parse_fortunes(text):
    """A fortune file -> sentences. Entries end at a '%' line; '--' lines are attributions."""
    sentences = []
    for entry in re.split(r"^%[ \t]*$", text, flags=re.MULTILINE):
        lines = []
        for line in entry.splitlines():
            if line.strip().startswith("--"):  # the attribution and whatever continues it
                break
            lines.append(line)
        for paragraph in join_paragraphs(lines):
            sentences += split_sentences(paragraph)
    return sentences


def parse_bible(text):
    """Output of `bible -l100000 Gen1:1-Rev22:21` -> [(book, verse_text)], references dropped."""
    verses, book = [], None
    for line in text.splitlines():
        heading = re.fullmatch(r"(\S.*) \d+", line)  # "1 Samuel 3"
        verse = re.fullmatch(r"\s+\d+ (.*)", line)  # "  7 And God made the firmament, ..."
        if heading:
            book = heading.group(1)
        elif verse and book:
            verses.append((book, verse.group(1).strip()))
    return verses


ODD_CHARS = re.compile(r"[<>{}\[\]|\\@#%^~=*+\x00-\x1f\x7f]")
ASCII_PUNCT = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                             "\u2014": "--", "\u2013": "-", "`": "'",
                             "_": ""})  # _underscores_ mark italics in Gutenberg texts


def balance_quotes(s):
    """Splitting cuts quotations that span sentences: close or reopen the dangling quote."""
    if s.count('"') % 2 == 0:
        return s
    i = s.index('"')
    opens = i == 0 or s[i - 1] in " ("
    return s + '"' if opens else '"' + s


def clean_sentence(s):
    """Tidy a sentence, or None when it is not a plain English sentence of 3-30 words."""
    s = " ".join(s.translate(ASCII_PUNCT).split())
    words = s.split()
    if not MIN_WORDS <= len(words) <= MAX_WORDS or ODD_CHARS.search(s):
        return None
    if sum(not c.isascii() for c in s) > 2:  # a café is fine, transliterated text is not
        return None
    letters = [c for c in s if c.isalpha()]
    if len(letters) < 0.6 * len(s.replace(" ", "")):  # tables, code, dates
        return None
    if sum(w.isupper() and len(w) > 1 for w in words) > len(words) / 2:  # headings, shouting
        return None
    if sum(any(c.isdigit() for c in w) for w in words) > 2:
        return None
    return balance_quotes(s)

# -----------------------------------------------------------------------------
# readers of the installed packages


def read_wordnet():
    records = []
    for pos in ["noun", "verb", "adj", "adv"]:
        lines = (WORDNET_DIR / f"data.{pos}").read_text(encoding="latin-1").splitlines()
        records += [Record(text, "wordnet", lexfile, kind)
                    for lexfile, kind, text in parse_wordnet_data(lines)]
    return records


def read_fortunes():
    records = []
    for path in sorted(FORTUNE_DIR.iterdir()):
        if path.suffix or path.is_symlink() or path.name in SKIP_FORTUNES:  # skip .dat/.u8
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        records += [Record(s, "fortunes", path.name, "") for s in parse_fortunes(text)]
    return records


def unpack_r_packages(root):
    """The R data packages are unpacked, not installed, so R itself is never pulled in."""
    root.mkdir(parents=True, exist_ok=True)
    for name in ["tidytext", "janeaustenr"]:
        if not (root / R_SITE / name).exists():
            subprocess.run(["apt-get", "download", f"r-cran-{name}"], cwd=root, check=True)
            deb = next(root.glob(f"r-cran-{name}_*.deb"))
            subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)


def read_lazyload(rdb, rdx):
    """Objects of an R lazy-load database: each one is a (length + zlib) serialised R object."""
    import rdata  # imported here: only the build needs it, the parser tests do not
    index = rdata.read_rds(rdx)
    raw = rdb.read_bytes()
    objects = {}
    for name, (offset, size) in index["variables"].items():
        blob = raw[offset:offset + size]
        length = struct.unpack(">I", blob[:4])[0]
        data = zlib.decompress(blob[4:])  # janeaustenr uses plain zlib (compress = TRUE)
        assert len(data) == length
        parsed = rdata.parser.parse_data(data, extension=".rds")
        objects[str(name)] = rdata.conversion.convert(parsed)
    return objects


def read_novels(root):
    import rdata  # see read_lazyload
    records = []
    with warnings.catch_warnings():  # rdata warns about tibble classes it reads as data frames
        warnings.simplefilter("ignore")
        books = rdata.read_rda(root / R_SITE / "tidytext/extdata/books.rda")["books"]
        lib = root / R_SITE / "janeaustenr/data"
        austen = read_lazyload(lib / "Rdata.rdb", lib / "Rdata.rdx")
    texts = {title: list(books["text"][books["title"] == title]) for title in NOVEL_AUTHORS}
    texts.update({name: list(austen[name]) for name in AUSTEN_NOVELS})
    for title, lines in texts.items():
        author = NOVEL_AUTHORS.get(title, "Austen")
        for paragraph in join_paragraphs(lines):
            records += [Record(s, "novels", author, title) for s in split_sentences(paragraph)]
    return records


def read_bible():
    dump = subprocess.run(["bible", "-l100000", "Gen1:1-Rev22:21"], check=True,
                          capture_output=True, text=True).stdout
    verses = parse_bible(dump)
    assert {book for book, _ in verses} == set(BOOK_GROUP), "book list does not match"
    return [Record(text, "bible", BOOK_GROUP[book], book) for book, text in verses]


# -----------------------------------------------------------------------------
# the shipped model's corpus: Tatoeba

TATOEBA = Path(__file__).resolve().parents[2] / "shared" / "data" / "tatoeba" / "sentences.txt.gz"
TATOEBA_MIN_WORDS, TATOEBA_MAX_WORDS = 3, 15  # what people type; 16-20 words are 1% of Tatoeba
TATOEBA_HELDOUT = 3000  # sentences in each of test and valid
TINY_SIZE = 2000  # sentences of the Train page's corpus, drawn from train
# The app is used in classrooms: a line with any of these words is left out of every split
# (Tatoeba's README counts about 240 lines of strong profanity or sexual words).
BLOCKLIST = set("""fuck fucking fucked fucker fucks motherfucker shit shits shitty bullshit bitch
bitches bastard bastards whore whores slut sluts porn porno pornography pornographic rape raped
rapes raping rapist cock cocks dick dicks dickhead pussy cunt cunts asshole assholes arse arsehole
tits titties boobs boob sex sexual sexually sexy orgasm penis penises vagina condom condoms
masturbate masturbating horny nude nudes naked prostitute prostitutes prostitution hooker hookers
nigger niggers nigga faggot faggots fag fags retard retarded erection blowjob dildo
damn damned goddamn crap piss pissed""".split())
WORD = re.compile(r"\w+(?:'\w+)?")
# Rows of the labelled maps (shown as neighbours and on the map) that a teacher would not project:
# rude phrases of clean words and a few frank ones, found by reading every row of the five CSVs
# (2026-12-02). Matched as whole words; each was checked to catch no other row of those files. Not
# the blocklist: its words would also take the King James Bible's "naked" and Austen's "your own sex".
CLASSROOM_PHRASES = """bs|like pee|gave me the finger|masturbation|making babies|sucks|semen|half-assed|screwed
|bra|your behind|gave herself|gets off on|arouses|strips|pornographic|damn|pissed|bitch""".replace("\n", "").split("|")
# whole words, and a hyphen joins words: "finger-post" and "pee-wee" are not the phrases
CLASSROOM_PATTERN = re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, CLASSROOM_PHRASES)) + r")(?![\w-])",
                               re.IGNORECASE)


def normalised(text):
    """The key two sentences are the same under: lower case, straight quotes, words only."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(WORD.findall(text))


def tatoeba_lines(path=TATOEBA):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


def is_clean(text):
    return not {w.lower() for w in WORD.findall(text)} & BLOCKLIST


def for_the_classroom(rows):
    """The (text, label) rows of a labelled map without CLASSROOM_PHRASES. Applied after the rows are
    drawn, so the draws, and every file drawn after them, stay as they were."""
    return [(text, label) for text, label in rows if not CLASSROOM_PATTERN.search(text)]


def sentence_kind(text):
    """A label for the latent map that the words show: question, exclamation, negation or
    statement (questions and exclamations by their last mark, negations by their words)."""
    if text.endswith("?"):
        return "question"
    if text.endswith("!"):
        return "exclamation"
    words = {w.lower() for w in WORD.findall(text.replace("\u2019", "'"))}
    if words & {"not", "never", "no", "nobody", "nothing"} or any(w.endswith("n't") for w in words):
        return "negation"
    return "statement"


def build_training(path, out, rng, reserved=()):
    """Tatoeba -> train / valid / test (no sentence in two splits, none of `reserved` in any) and
    the sentence-kind map. Returns {name: lines} and a dict of counts for the README."""
    lines = tatoeba_lines(path)
    counts = {"Tatoeba lines": len(lines)}
    lines = [t for t in lines if TATOEBA_MIN_WORDS <= len(WORD.findall(t)) <= TATOEBA_MAX_WORDS]
    counts[f"{TATOEBA_MIN_WORDS}-{TATOEBA_MAX_WORDS} words"] = len(lines)
    lines = [t for t in lines if is_clean(t)]
    counts["after the blocklist"] = len(lines)
    # the everyday list and the card's interpolation pairs judge the model: never trained on
    reserved = {normalised(t) for t in reserved}
    seen, unique = set(reserved), []
    for t in lines:
        key = normalised(t)
        if key and key not in seen:
            seen.add(key)
            unique.append(t)
    counts["unique after normalisation, reserved sentences out"] = len(unique)
    rng.shuffle(unique)
    n = TATOEBA_HELDOUT
    splits = {"test": unique[:n], "valid": unique[n:2 * n], "train": unique[2 * n:]}
    for name, split in splits.items():
        write_gz(out / f"{name}.txt.gz", split)
    kinds = for_the_classroom(balanced([Record(t, "tatoeba", sentence_kind(t), "") for t in splits["train"]],
                                       lambda r: r.label, 750, rng))
    write_csv(out / "sentence_kinds.csv", kinds)
    # the Train page's corpus: the same kind of English as the held-out sentences its runs are measured on
    candidates = [t for t in splits["train"] if 4 <= len(WORD.findall(t)) <= 15]
    tiny = rng.sample(candidates, min(TINY_SIZE, len(candidates)))  # a small source (the tests') gives all it has
    (out / "tiny_train.txt").write_text("\n".join(tiny) + "\n", encoding="utf-8")
    return splits, counts

# -----------------------------------------------------------------------------
# building


def clean_and_dedup(records):
    """Clean every record; keep the first of sentences that are equal up to case."""
    seen, out = set(), []
    for r in records:
        text = clean_sentence(r.text)
        if text and text.lower() not in seen:
            seen.add(text.lower())
            out.append(r._replace(text=text))
    return out


def source_cap(sizes, max_share):
    """Largest cap c with c <= max_share * sum(min(n, c)): then no source exceeds max_share."""
    cap = max(sizes.values())
    while True:
        new = int(max_share * sum(min(n, cap) for n in sizes.values()))
        if new >= cap:
            return cap
        cap = new


def cap_sources(records, max_share, rng):
    by_source = collections.defaultdict(list)
    for r in records:
        by_source[r.source].append(r)
    cap = source_cap({s: len(rs) for s, rs in by_source.items()}, max_share)
    kept = []
    for rs in by_source.values():
        rng.shuffle(rs)
        rs.sort(key=lambda r: r.detail == "gloss")  # stable: WordNet examples before glosses
        kept += rs[:cap]
    return kept


def unknown_rates(train_texts, heldout_texts, sizes=VOCAB_SIZES):
    """{vocabulary size: share of held-out tokens (words + punctuation) that are <unk>}."""
    from vae.tokenizer import UNK_ID, WordTokenizer  # the model's own tokenizer, so the figure is exact
    rates = {}
    for size in sizes:
        tokenizer = WordTokenizer.train(train_texts, size)
        ids = [i for x in tokenizer.encode_batch(heldout_texts) for i in x]
        rates[size] = sum(i == UNK_ID for i in ids) / max(len(ids), 1)
    return rates


def balanced(records, label_of, per_label, rng, labels=None):
    """Up to per_label random (text, label) rows for each label, shuffled together."""
    groups = collections.defaultdict(list)
    for r in records:
        groups[label_of(r)].append(r.text)
    rows = []
    for label in labels or sorted(groups):
        texts = sorted(groups[label])
        rows += [(t, label) for t in rng.sample(texts, min(per_label, len(texts)))]
    rng.shuffle(rows)
    return rows


def write_gz(path, lines):
    # mtime=0 makes the archive bytes depend on the content only, so rebuilds diff cleanly
    with open(path, "wb") as f, gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as gz:
        gz.write(("\n".join(lines) + "\n").encode("utf-8"))


def write_csv(path, rows):
    """text,label rows; a cell that starts like a spreadsheet formula is escaped, as in every CSV the
    project writes (none of today's sentences does, so the files are unchanged by it)."""
    from vae.data import safe_cell

    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows([safe_cell(cell) for cell in row] for row in rows)


def count_table(header, counts):
    """A markdown table from {row: Counter(column -> n)}."""
    cols = sorted({c for row in counts.values() for c in row})
    lines = [f"| {header} | " + " | ".join(cols) + " | total |", "|---" * (len(cols) + 2) + "|"]
    for name, row in counts.items():
        cells = [str(row.get(c, 0)) for c in cols] + [str(sum(row.values()))]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


COUNTS_BEGIN, COUNTS_END = "<!-- counts: written by build_corpora.py -->", "<!-- end counts -->"


def write_readme_counts(out, args, raw, pool, corpus, splits, labelled):
    """Refresh the counts block of README.md; the prose around it is written by hand."""
    def per_source(records):
        return collections.Counter(r.source for r in records)
    stages = {"parsed": per_source(raw), "cleaned + deduplicated": per_source(pool),
              f"kept (max share {args.max_share:.0%})": per_source(corpus)}
    stages.update({name: per_source(split) for name, split in splits.items()})
    lines = [f"Built with `--seed {args.seed} --max-share {args.max_share}`.", "",
             "| file | lines |", "|---|---|"]
    lines += [f"| `{name}.txt.gz` | {len(split)} |" for name, split in splits.items()]
    lines += [f"| `{name}.csv` | {len(rows)} |" for name, rows in labelled.items()]
    lines += ["", "Sentences per source:", "", count_table("stage", stages), "",
              "Rows per label:", ""]
    for name, rows in labelled.items():
        counts = collections.Counter(label for _, label in rows)
        lines.append(f"- `{name}.csv`: " + ", ".join(f"{k} {n}" for k, n in sorted(counts.items())))
    write_block(out / "README.md", COUNTS_BEGIN, COUNTS_END, "\n".join(lines))


TATOEBA_BEGIN, TATOEBA_END = "<!-- tatoeba counts: written by build_corpora.py -->", "<!-- end tatoeba counts -->"


def write_block(readme, begin, end, body):
    """Replace what lies between `begin` and `end` in `readme` (appended if missing)."""
    text = readme.read_text() if readme.exists() else ""
    if begin not in text:
        text += f"\n{begin}\n{end}\n"
    head, rest = text.split(begin)
    readme.write_text(f"{head}{begin}\n{body}\n{end}{rest.split(end)[1]}")


def write_training_counts(out, args, splits, counts, rates):
    lines = [f"Built with `--seed {args.seed}` from `{args.tatoeba.name}`.", "", "| stage | lines |", "|---|---|"]
    lines += [f"| {stage} | {n:,} |" for stage, n in counts.items()]
    lines += [f"| `{name}.txt.gz` | {len(split):,} |" for name, split in splits.items()]
    lines += [f"| `tiny_train.txt` | {TINY_SIZE:,} |"]
    kinds = collections.Counter(sentence_kind(t) for t in splits["train"])
    lines += ["", "Sentence kinds in train (`sentence_kinds.csv` takes up to 750 of each): "
              + ", ".join(f"{k} {n:,}" for k, n in sorted(kinds.items())), "",
              "Held-out (valid + test) tokens that are `<unk>`, by word-level vocabulary size: "
              + ", ".join(f"{size:,}: {rate:.2%}" for size, rate in rates.items()) + "."]
    write_block(out / "README.md", TATOEBA_BEGIN, TATOEBA_END, "\n".join(lines))


def write_licenses(out, r_root):
    parts = ["# Licences and notices of the sources\n",
             "Copied verbatim from the Debian packages' copyright files by build_corpora.py.\n"]
    for name, path in COPYRIGHT_FILES.items():
        path = Path(path) if path.startswith("/") else r_root / path
        parts.append(f"## {name}\n\nFrom `{path}`:\n\n```\n{path.read_text().rstrip()}\n```\n")
    (out / "LICENSES.md").write_text("\n".join(parts))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    from vae.paths import CORPORA
    from vae.report import INTERPOLATION_PAIRS, read_everyday_sentences

    parser.add_argument("--out", default=CORPORA, type=Path)
    parser.add_argument("--seed", default=0, type=int)
    parser.add_argument("--only", choices=("training", "maps"),
                        help="training: the Tatoeba splits and sentence kinds; maps: the Debian corpora")
    parser.add_argument("--tatoeba", default=TATOEBA, type=Path, help="Tatoeba's sentences.txt.gz")
    parser.add_argument("--max-share", default=MAX_SHARE, type=float,
                        help="largest share of the maps' corpus any one source may have")
    parser.add_argument("--r-packages", default="/tmp/r-data-packages", type=Path,
                        help="where the two R data packages are unpacked")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.only != "maps":
        reserved = read_everyday_sentences() + [t for pair in INTERPOLATION_PAIRS for t in pair]
        splits, counts = build_training(args.tatoeba, args.out, random.Random(args.seed), reserved)
        rates = unknown_rates(splits["train"], splits["valid"] + splits["test"])
        write_training_counts(args.out, args, splits, counts, rates)
        print((args.out / "README.md").read_text().split(TATOEBA_BEGIN)[1].split(TATOEBA_END)[0])
    if args.only != "training":
        build_maps(args)


def build_maps(args):
    """The Debian corpora: the labelled maps and the Train page's tiny corpus."""
    rng = random.Random(args.seed)
    unpack_r_packages(args.r_packages)
    raw = read_wordnet() + read_fortunes() + read_novels(args.r_packages) + read_bible()
    pool = clean_and_dedup(raw)
    corpus = cap_sources(list(pool), args.max_share, rng)
    rng.shuffle(corpus)
    # the same draws as when these files were the training corpus too, so the maps stay as they were
    test, valid, train = corpus[:N_HELDOUT], corpus[N_HELDOUT:2 * N_HELDOUT], corpus[2 * N_HELDOUT:]
    short = [r.text for r in train if len(r.text.split()) <= 15]
    rng.sample(short, 2000)  # once the Train page's corpus: still drawn, so the maps below stay as they were
    heldout = {r.text.lower() for r in test + valid}

    free = [r for r in pool if r.text.lower() not in heldout]
    labelled = {
        "by_source": balanced(free, lambda r: r.source, 750, rng),
        "by_author": balanced([r for r in free if r.source == "novels"], lambda r: r.label, 600,
                              rng),
        "wordnet_topics": balanced([r for r in free if r.detail == "example"],
                                   lambda r: r.label, 250, rng, labels=TOPICS),
        "bible_books": balanced([r for r in free if r.source == "bible"], lambda r: r.label, 400,
                                rng, labels=list(BIBLE_GROUPS)),
    }
    labelled = {name: for_the_classroom(rows) for name, rows in labelled.items()}
    for name, rows in labelled.items():
        write_csv(args.out / f"{name}.csv", rows)
    write_readme_counts(args.out, args, raw, pool, corpus, {}, labelled)
    write_licenses(args.out, args.r_packages)
    print((args.out / "README.md").read_text().split(COUNTS_BEGIN)[1].split(COUNTS_END)[0])


if __name__ == "__main__":
    main()
