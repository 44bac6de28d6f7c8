#!/usr/bin/env python3
"""mkrepo.py - the git fast-import stream of a synthetic project history.

    bench/mkrepo.py COMMITS MIGRATIONS | git fast-import --quiet

Writes, on standard output, a `git fast-import` stream for refs/heads/main
with COMMITS commits in all, of which MIGRATIONS each add one migration
db/migrations/<NNNNN>_create_tN.up.sql (`CREATE TABLE tN (id int);`),
spread evenly over the history.  The other commits edit one of 1,000
source files under src/ (so most commits leave db/migrations alone, as in a
real project), and every 100th commit is a merge of a one-commit side
branch that edits docs/ (so history walks meet merges).

The root commit holds only cairn.yaml and README, so
`cairn plan <root>..HEAD` lists every migration as added.  cairn.yaml takes
the database from ${DATABASE_URL} and registers the `log` and `metrics`
built-ins with paths from ${CAIRN_BENCH_LOG:-cairn-log.jsonl} and
${CAIRN_BENCH_METRICS:-cairn-metrics.prom} (never /dev/null: the metrics
file is written by rename(2), which would replace the device node).

Authors rotate among 50 names; author and committer times grow by 60 s a
commit from 2020-01-01, so history order and time order agree.
"""
import sys

CAIRN_YAML = """\
# cairn.yaml of the synthetic benchmark repository (bench/mkrepo.py)
migrations_dir: db/migrations
environments:
  development:
    database_url: ${DATABASE_URL}
hooks:
  post_execute:
    - builtin: log
      path: ${CAIRN_BENCH_LOG:-cairn-log.jsonl}
  post_complete:
    - builtin: metrics
      metrics_file: ${CAIRN_BENCH_METRICS:-cairn-metrics.prom}
"""


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: mkrepo.py COMMITS MIGRATIONS\n")
        return 2
    ncommits = int(sys.argv[1])
    nmig = int(sys.argv[2])
    if ncommits < nmig + 2 or nmig < 1:
        sys.stderr.write("mkrepo.py: need COMMITS >= MIGRATIONS + 2\n")
        return 2
    out = sys.stdout.buffer
    w = out.write
    t0 = 1577836800  # 2020-01-01T00:00:00Z
    mark = 0
    made = 0       # commits written so far
    mig = 0        # migrations added so far
    src_rev = [0] * 1000
    doc_rev = 0
    width = max(5, len(str(nmig)))

    def data(b):
        w(b"data %d\n" % len(b))
        w(b)
        w(b"\n")

    def header(m, who, msg):
        t = t0 + 60 * made
        ident = b"Dev %d <dev%d@example.com> %d +0000\n" % (who, who, t)
        w(b"commit refs/heads/main\nmark :%d\n" % m)
        w(b"author " + ident)
        w(b"committer " + ident)
        data(msg)

    # root commit
    mark += 1
    header(mark, 0, b"initial: cairn.yaml\n")
    w(b"M 100644 inline cairn.yaml\n")
    data(CAIRN_YAML.encode())
    w(b"M 100644 inline README\n")
    data(b"synthetic repository for cairn benchmarks\n")
    w(b"\n")
    made += 1
    head = mark

    # the other commits: migration adds spread evenly over the history
    i = 0
    while made < ncommits:
        who = (i * 7) % 50
        left = ncommits - made          # commits still to write
        need = nmig - mig               # migrations still to add
        adds = need > 0 and (mig < made * nmig // (ncommits - 1) or
                             left <= need)
        merge = not adds and i % 100 == 50 and left - 2 >= need
        i += 1
        if merge:
            # one side commit, then the merge commit on main
            mark += 1
            side = mark
            doc_rev += 1
            header(side, who, b"docs: revision %d\n" % doc_rev)
            w(b"from :%d\n" % head)
            w(b"M 100644 inline docs/guide.txt\n")
            data(b"guide revision %d\n" % doc_rev)
            w(b"\n")
            made += 1
            mark += 1
            header(mark, who, b"Merge branch 'docs-%d'\n" % doc_rev)
            w(b"from :%d\nmerge :%d\n" % (head, side))
            w(b"M 100644 inline docs/guide.txt\n")
            data(b"guide revision %d\n" % doc_rev)
            w(b"\n")
            made += 1
            head = mark
            continue
        mark += 1
        if adds:
            mig += 1
            header(mark, who, b"add migration %d\n" % mig)
            w(b"from :%d\n" % head)
            path = b"db/migrations/%0*d_create_t%d.up.sql" % (width, mig, mig)
            w(b"M 100644 inline " + path + b"\n")
            data(b"CREATE TABLE t%d (id int);\n" % mig)
        else:
            k = i % 1000
            src_rev[k] += 1
            header(mark, who, b"src: edit module %d\n" % k)
            w(b"from :%d\n" % head)
            w(b"M 100644 inline src/mod%03d.txt\n" % k)
            data(b"module %d revision %d\n" % (k, src_rev[k]))
        w(b"\n")
        made += 1
        head = mark
    w(b"done\n")
    out.flush()
    if mig != nmig:
        sys.stderr.write("mkrepo.py: wrote %d migrations, wanted %d\n" %
                         (mig, nmig))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
