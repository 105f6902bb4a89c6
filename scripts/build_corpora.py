"""Rebuild the sentence corpora in assets/corpora from Debian and PyPI packages.

Sources (licences in assets/corpora/README.md and LICENSES.md):
  wordnet   WordNet 3.0 example sentences and glosses     apt: wordnet-base
  fortunes  BSD fortune cookie files                       apt: fortunes fortunes-min
  novels    3 novels of r-cran-tidytext + Austen's 6        apt-get download, unpacked (no R)
  bible     King James Version verses                      apt: bible-kjv

    python scripts/build_corpora.py --out assets/corpora --seed 0
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
# The training corpus of the shipped model is the modern, short part of each split: 4-15 words, no
# Bible verses, no WordNet glosses (noun phrases, not sentences) and no Early Modern English. Long
# and archaic sentences made the first model spend its capacity on register instead of words.
MODERN_MIN_WORDS, MODERN_MAX_WORDS = 4, 15
ARCHAIC = set("""thee thou thy thine ye hath doth dost hast shalt wilt wouldst shouldst couldst canst
saith unto thereof therein wherefore whence hither thither yea nay ere oft behold verily begat
whither wherein hitherto methinks prithee betwixt""".split())
NOT_ARCHAIC_ETH = {"beneath", "teeth", "death", "breath", "seth", "beth", "meth", "twentieth",
                   "thirtieth", "fortieth", "fiftieth", "sixtieth", "seventieth", "eightieth",
                   "ninetieth", "hundredth", "elizabeth", "macbeth", "kenneth", "gareth", "bequeath"}
# A sentence with a word outside the COMMON_WORDS most frequent words of the (modern, short) training
# split is left out of every split: a 32-number code cannot spell rare names anyway, and people type
# everyday words into the app. Without this, 6.9% of held-out tokens were <unk> at 10k words.
COMMON_WORDS = 10_000
VOCAB_SIZES = (8_000, 10_000, 12_000)  # the held-out <unk> share is printed for each
N_HELDOUT = 2000  # sentences in each of test and valid
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


def is_modern_short(record):
    """True for a training sentence of the shipped model: see MODERN_MIN_WORDS and ARCHAIC."""
    if record.source == "bible" or record.detail == "gloss":
        return False
    words = record.text.split()
    if not MODERN_MIN_WORDS <= len(words) <= MODERN_MAX_WORDS:
        return False
    lowered = {w.strip(".,;:!?\"'()-").lower() for w in words}
    archaic_eth = {w for w in lowered if len(w) > 4 and w.endswith("eth") and w not in NOT_ARCHAIC_ETH}
    return not (lowered & ARCHAIC or archaic_eth)


def common_words_only(train, *heldout, size=COMMON_WORDS):
    """Drop sentences with a word outside the `size` most frequent of `train` (the model's tokenizer
    decides what a word is). The vocabulary comes from train alone, so held-out text stays unseen."""
    from vae.tokenizer import UNK_ID, WordTokenizer
    tokenizer = WordTokenizer.train([r.text for r in train], size, min_freq=1)

    def keep(split):
        ids = tokenizer.encode_batch([r.text for r in split])
        return [r for r, x in zip(split, ids) if UNK_ID not in x]
    return [keep(split) for split in (train, *heldout)]


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


def write_readme_counts(out, args, raw, pool, corpus, splits, tiny, labelled):
    """Refresh the counts block of README.md; the prose around it is written by hand."""
    def per_source(records):
        return collections.Counter(r.source for r in records)
    stages = {"parsed": per_source(raw), "cleaned + deduplicated": per_source(pool),
              f"kept (max share {args.max_share:.0%})": per_source(corpus)}
    stages.update({name: per_source(split) for name, split in splits.items()})
    lines = [f"Built with `--seed {args.seed} --max-share {args.max_share}`.", "",
             "| file | lines |", "|---|---|"]
    lines += [f"| `{name}.txt.gz` | {len(split)} |" for name, split in splits.items()]
    lines += [f"| `tiny_train.txt` | {len(tiny)} |"]
    lines += [f"| `{name}.csv` | {len(rows)} |" for name, rows in labelled.items()]
    lines += ["", "Sentences per source:", "", count_table("stage", stages), "",
              "Rows per label:", ""]
    for name, rows in labelled.items():
        counts = collections.Counter(label for _, label in rows)
        lines.append(f"- `{name}.csv`: " + ", ".join(f"{k} {n}" for k, n in sorted(counts.items())))
    readme = out / "README.md"
    text = readme.read_text() if readme.exists() else f"{COUNTS_BEGIN}\n{COUNTS_END}\n"
    head, rest = text.split(COUNTS_BEGIN)
    counts = "\n".join(lines)
    readme.write_text(f"{head}{COUNTS_BEGIN}\n{counts}\n{COUNTS_END}{rest.split(COUNTS_END)[1]}")


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

    parser.add_argument("--out", default=CORPORA, type=Path)
    parser.add_argument("--seed", default=0, type=int)
    parser.add_argument("--max-share", default=MAX_SHARE, type=float,
                        help="largest share of the corpus any one source may have")
    parser.add_argument("--r-packages", default="/tmp/r-data-packages", type=Path,
                        help="where the two R data packages are unpacked")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    unpack_r_packages(args.r_packages)

    raw = read_wordnet() + read_fortunes() + read_novels(args.r_packages) + read_bible()
    pool = clean_and_dedup(raw)
    corpus = cap_sources(list(pool), args.max_share, rng)
    rng.shuffle(corpus)
    test, valid, train = corpus[:N_HELDOUT], corpus[N_HELDOUT:2 * N_HELDOUT], corpus[2 * N_HELDOUT:]
    short = [r.text for r in train if len(r.text.split()) <= 15]
    tiny = rng.sample(short, 2000)
    # labelled corpora for the latent map: anything but the held-out sentences, filtered or not
    heldout = {r.text.lower() for r in test + valid}
    # the held-out splits are cut before filtering, so no training sentence can leak into them
    test, valid, train = ([r for r in split if is_modern_short(r)] for split in (test, valid, train))
    train, valid, test = common_words_only(train, valid, test)
    for name, split in [("train", train), ("valid", valid), ("test", test)]:
        write_gz(args.out / f"{name}.txt.gz", [r.text for r in split])
    (args.out / "tiny_train.txt").write_text("\n".join(tiny) + "\n", encoding="utf-8")

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
    for name, rows in labelled.items():
        write_csv(args.out / f"{name}.csv", rows)

    splits = {"train": train, "valid": valid, "test": test}
    write_readme_counts(args.out, args, raw, pool, corpus, splits, tiny, labelled)
    write_licenses(args.out, args.r_packages)
    print((args.out / "README.md").read_text().split(COUNTS_BEGIN)[1].split(COUNTS_END)[0])
    rates = unknown_rates([r.text for r in train], [r.text for r in valid + test])
    print("held-out <unk> share by vocabulary size: "
          + ", ".join(f"{size:,}: {rate:.2%}" for size, rate in rates.items()))

if __name__ == "__main__":
    main()
