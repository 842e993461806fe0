#!/usr/bin/env bash
# Every command in README.md and docs/*.md runs as written: this checks that each `coldstart`
# and `rewarm` command in a fenced code block or an inline code span names a subcommand and
# flags that the built binary's `--help` lists, that each `bash scripts/...` / `bash bench/...`
# script exists and knows the flags given to it, and that every relative link and #anchor
# resolves. Without --flags it then runs the fenced blocks marked `<!-- check-docs: run -->`
# (or `<!-- check-docs: run SUB... -->`: only those subcommands) in a scratch folder, one
# block after the other, at demo scale.
#
#   bash scripts/check-docs.sh --flags   # the fast part (seconds): flags, scripts, links
#   bash scripts/check-docs.sh           # the same, then runs the marked blocks (a few minutes)
#
# The binaries are target/release/{coldstart,rewarm} (CHECK_DOCS_BIN=DIR for another folder,
# e.g. target/debug after `cargo test`); they are built when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${CHECK_DOCS_BIN:-target/release}
if [ ! -x "$bin/coldstart" ] || [ ! -x "$bin/rewarm" ]; then
  [ "$bin" = target/release ] || { echo "$bin has no coldstart and rewarm binaries" >&2; exit 2; }
  cargo build --release --locked -p coldstart -p rewarm
fi
exec python3 - "$bin" "$@" <<'PY'
import os, re, shlex, subprocess, sys, tempfile, time

bin_dir, args = sys.argv[1], sys.argv[2:]
fast = "--flags" in args
ROOT = os.getcwd()
PAGES = ["README.md"] + sorted(os.path.join("docs", f) for f in os.listdir("docs") if f.endswith(".md"))
TOOLS = {"coldstart": os.path.join(bin_dir, "coldstart"), "rewarm": os.path.join(bin_dir, "rewarm")}
errors = []
help_cache = {}


def help_text(tool, sub=None):
    key = (tool, sub)
    if key not in help_cache:
        cmd = [TOOLS[tool]] + ([sub] if sub else []) + ["--help"]
        p = subprocess.run(cmd, capture_output=True, text=True)
        help_cache[key] = p.stdout if p.returncode == 0 else None
    return help_cache[key]


def subcommands(tool):
    text = help_text(tool)
    block = text.split("Commands:", 1)[1].split("Options:", 1)[0]
    return {l.split()[0] for l in block.splitlines() if l.strip()} - {"help"}


def flags_of(text):
    return set(re.findall(r"(?<![\w-])(--[a-z0-9][a-z0-9-]*)", text))


def code_blocks(text):
    """(start line, language, marker, lines) of each fenced block."""
    out, lines, i = [], text.split("\n"), 0
    while i < len(lines):
        m = re.match(r"^```(\w*)\s*$", lines[i])
        if m:
            lang, start, body = m.group(1), i + 1, []
            marker = None
            for back in range(i - 1, max(i - 3, -1), -1):
                mm = re.match(r"^<!-- check-docs: run(.*?)-->\s*$", lines[back])
                if mm:
                    marker = mm.group(1).split()
                    break
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            out.append((start, lang, marker, body))
        i += 1
    return out


def logical_lines(body):
    """Joins backslash continuations and indented synopsis continuations."""
    out = []
    for raw in body:
        if out and (out[-1][1].endswith("\\") or (raw[:1].isspace() and raw.strip() and not out[-1][2])):
            n, prev, _ = out[-1]
            out[-1] = (n, prev.rstrip("\\").rstrip() + " " + raw.strip(), raw.rstrip().endswith("\\") and False)
            continue
        out.append((len(out), raw.rstrip(), False))
    return [l for _, l, _ in out]


def words(line):
    try:
        return shlex.split(line, comments=True)
    except ValueError:
        return line.split("#", 1)[0].split()


def clean(tok):
    return tok.strip("[]()|.,;`'\"").split("=", 1)[0]


def check_tool(tool, toks, where):
    """toks: the words after the binary's name."""
    if not toks:
        return
    global_flags = flags_of(help_text(tool))
    i = 0
    while i < len(toks) and toks[i].lstrip("[(").startswith("--"):
        if clean(toks[i]) not in global_flags:
            errors.append(f"{where}: `{tool}` has no global flag {clean(toks[i])}")
        i += 1
    if i >= len(toks):
        return
    sub = clean(toks[i])
    if sub in ("", "...") or not re.match(r"^[a-z][a-z0-9-]*$", sub):
        return
    if sub not in subcommands(tool):
        errors.append(f"{where}: `{tool} {sub}`: no such subcommand")
        return
    known = flags_of(help_text(tool, sub)) | global_flags
    rest = toks[i + 1:]
    for j, t in enumerate(rest):
        if t == "--" and tool == "rewarm" and sub == "launch":
            check_tool(tool, rest[j + 1:], where)
            return
        for part in re.split(r"[|\[\]()]", t):
            if part.startswith("--") and len(part) > 2:
                f = clean(part)
                if f not in known:
                    errors.append(f"{where}: `{tool} {sub}` has no flag {f}")


def check_script(path, toks, where):
    if not os.path.isfile(path):
        errors.append(f"{where}: {path} does not exist")
        return
    texts = [open(path).read()]
    py = os.path.join(os.path.dirname(path), os.path.basename(path)[:-3] + "_bench.py")
    if os.path.isfile(py):
        texts.append(open(py).read())
    for t in toks:
        for part in re.split(r"[|\[\]()]", t):
            if part.startswith("--") and len(part) > 2:
                f = clean(part)
                if not any(f in x for x in texts):
                    errors.append(f"{where}: {path} takes no {f}")


def check_line(line, where):
    toks = words(line)
    # Leading environment assignments (`BF16=1 bash bench/rewarm.sh`).
    while toks and re.match(r"^[A-Z_][A-Z0-9_]*=", toks[0]):
        toks = toks[1:]
    if not toks:
        return False
    if toks[0] == "bash" and len(toks) > 1 and re.match(r"^(scripts|bench)/", toks[1]):
        check_script(toks[1], toks[2:], where)
        return True
    for k, t in enumerate(toks):
        name = os.path.basename(t)
        if name in TOOLS and (k == 0 or toks[0] in ("torchrun", "srun")):
            check_tool(name, toks[k + 1:], where)
            return True
    return False


def slug(h):
    h = re.sub(r"[`*_]", "", h.strip().lower())
    h = re.sub(r"[^\w\- ]", "", h)
    return h.replace(" ", "-")


def anchors(path):
    text = open(path).read()
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    return {slug(m) for m in re.findall(r"^#+\s+(.*)$", text, flags=re.M)}


checked = 0
runs = []
for page in PAGES:
    text = open(page).read()
    for start, lang, marker, body in code_blocks(text):
        if lang not in ("", "sh", "bash", "console"):
            continue
        cmds = []
        for line in logical_lines(body):
            if check_line(line, f"{page}:{start}"):
                checked += 1
                cmds.append(line)
        if marker is not None:
            runs.append((page, start, marker, cmds))
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    for span in re.findall(r"`([^`\n]+)`", prose.replace("\n", " ")):
        if re.match(r"^(coldstart|rewarm) [a-z]", span) or re.match(r"^bash (scripts|bench)/", span):
            if check_line(span, f"{page} (inline `{span[:50]}`)"):
                checked += 1
    # Links: relative files and #anchors.
    for target in re.findall(r"\]\(([^)\s]+)\)", prose):
        if re.match(r"^[a-z]+://", target) or target.startswith("mailto:"):
            continue
        path, _, frag = target.partition("#")
        dest = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
        if not os.path.exists(dest):
            errors.append(f"{page}: link to {target}: {dest} does not exist")
        elif frag and dest.endswith(".md") and frag not in anchors(dest):
            errors.append(f"{page}: link to {target}: no heading #{frag} in {dest}")

print(f"check-docs: {checked} commands in {len(PAGES)} pages checked against --help")
if not fast and not errors:
    scratch = tempfile.mkdtemp(prefix="check-docs-")
    os.symlink(os.path.join(ROOT, "configs"), os.path.join(scratch, "configs"))
    env = dict(os.environ, PATH=os.path.abspath(bin_dir) + os.pathsep + os.environ["PATH"])
    for page, start, only, cmds in runs:
        for c in cmds:
            toks = words(c)
            if only and not (len(toks) > 1 and toks[1] in only):
                continue
            c = re.sub(r"\bSTORE\b", "store", c)
            t0 = time.time()
            p = subprocess.run(c, shell=True, cwd=scratch, env=env, capture_output=True, text=True)
            status = "ok" if p.returncode == 0 else f"FAILED ({p.returncode})"
            print(f"  {status:>11} {time.time() - t0:6.1f} s  {page}:{start}: {c}")
            if p.returncode != 0:
                errors.append(f"{page}:{start}: `{c}` failed:\n{(p.stderr or p.stdout)[-2000:]}")
    print(f"check-docs: ran the marked blocks in a scratch folder")
    if not errors:
        subprocess.run(["rm", "-rf", scratch])
for e in errors:
    print("check-docs:", e, file=sys.stderr)
if errors:
    print(f"check-docs: {len(errors)} problems", file=sys.stderr)
    sys.exit(1)
print("check-docs: ok")
PY
