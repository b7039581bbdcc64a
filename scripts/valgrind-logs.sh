# scripts/valgrind-logs.sh: reading valgrind memcheck logs for aitrack's
# errors, for scripts/valgrind.sh and scripts/valgrind-citus.sh (sourced).
# VG_LOGS: the folder of one %p.log per process; REPO: the checkout (its
# src/ names aitrack's frames).
# shellcheck shell=bash

# vg_suppressions MAJOR DIR: valgrind's --suppressions arguments, one per
# line: PostgreSQL's own src/tools/valgrind.supp of that major version
# (taken from ../shared/postgres into DIR, when its tarball is there) and
# test/valgrind/postgres-internal.supp.
vg_suppressions() {
    local major=$1 dir=$2 tarball
    tarball=$(ls "$REPO/../shared/postgres/postgresql-${major}_"*.orig.tar.bz2 2>/dev/null | tail -n 1)
    if [[ -n $tarball ]] &&
            tar -xjf "$tarball" -C "$dir" --wildcards '*/src/tools/valgrind.supp' 2>/dev/null; then
        echo "--suppressions=$(ls "$dir"/*/src/tools/valgrind.supp | head -n 1)"
    fi
    echo "--suppressions=$REPO/test/valgrind/postgres-internal.supp"
}

# analyse_logs: print the aitrack error reports of $VG_LOGS/*.log (each
# distinct one once, with how many processes hit it) and a summary of the
# others; the last line of its output is "N M", the two counts.
analyse_logs() {
    local files=() names
    [[ -n $VG_LOGS && -d $VG_LOGS ]] && files=("$VG_LOGS"/*.log)
    [[ -e ${files[0]:-} ]] || files=(/dev/null)
    # aitrack's own source files, as valgrind names them in a frame
    names=$(cd "$REPO/src" && ls -1 -- *.c *.h 2>/dev/null |
            sed 's/[.]/[.]/g' | paste -sd'|')
    awk -v names="$names" '
        function flush(   key, where) {
            if (nframes > 0 && header !~ /^(Warning|WARNING)/) {
                where = pg_where != "" ? pg_where : any_where
                key = body
                gsub(/0x[0-9A-Fa-f]+/, "0x", key)   # addresses differ by process
                if (in_ai) {
                    n_ai++
                    if (!(key in ai_n)) { ai_order[++n_ai_keys] = key; ai_text[key] = body; ai_file[key] = file }
                    ai_n[key]++
                } else {
                    n_pg++
                    key = header (where == "" ? "" : "  [" where "]")
                    if (!(key in pg_n)) pg_order[++n_pg_keys] = key
                    pg_n[key]++
                }
            }
            header = ""; body = ""; nframes = 0; in_ai = 0; pg_where = ""; any_where = ""
        }
        BEGIN {
            frame_re = "^ +(at|by) 0x[0-9A-Fa-f]+: "
            ai_re = "[(](in [^)]*/aitrack[.]so|([^():]*/)?(" names "):[0-9]+)[)]$"
        }
        FNR == 1 { flush(); file = FILENAME }
        {
            line = $0
            sub(/^==[0-9]+== ?/, "", line)
            if (line ~ /^ *$/) { flush(); next }
            if (header == "") header = line
            body = body "    " line "\n"
            if (line ~ frame_re) {
                nframes++
                if (line ~ ai_re) in_ai = 1
                # where: the first named function of a PostgreSQL binary
                # (a frame "(in /usr/lib/postgresql/...)"), else of any
                if (line !~ /: [?]+ /) {
                    fn = line
                    sub(frame_re, "", fn)
                    sub(/ [(].*$/, "", fn)
                    if (line ~ /[(]in [^)]*\/postgresql\//) {
                        if (pg_where == "") pg_where = fn
                    } else if (any_where == "")
                        any_where = fn
                }
            }
        }
        END {
            flush()
            for (i = 1; i <= n_ai_keys; i++) {
                k = ai_order[i]
                printf "\n==== aitrack error %d of %d: in %d process(es), e.g. %s ====\n%s",
                       i, n_ai_keys, ai_n[k], ai_file[k], ai_text[k]
            }
            if (n_pg > 0) {
                printf "\nvalgrind: %d report(s) entirely inside PostgreSQL (not failing):\n", n_pg
                for (i = 1; i <= n_pg_keys; i++)
                    printf "  %3dx %s\n", pg_n[pg_order[i]], pg_order[i]
            }
            printf "%d %d\n", n_ai, n_pg
        }' "${files[@]}"
}
