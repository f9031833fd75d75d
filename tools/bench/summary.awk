# SPDX-License-Identifier: GPL-2.0
#
# summary.awk: bench-firstresp's CSV rows (header first) grouped by
# mode, backend, working set, RAM and clones, in the order they first
# appear; one CSV line per group with the median and the worst time to
# first response and the median of each counter.  Used by tools/demo and
# tools/bench/restore:  awk -F, -f tools/bench/summary.awk ROWS.csv
#
# Output columns: label,mode,backend,wset,mem_mib,clones,runs,ok,
# first_response_ms,worst_ms,load_ms,minflt,kvm_exits,kvm_pf,vmm_exits,
# uffd_faults,uffd_pages,pss_kib,kvm_pages_2m,warm_ms,overhead_ms,
# rewind_pages,private_kib
# (overhead_ms: the median first response minus the median warm invocation
# of the same VMs: what the restore, or the rewind, itself costs)
function median(list,    n, a, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) {
		t = a[i] + 0
		for (j = i - 1; j >= 1 && a[j] + 0 > t; j--)
			a[j + 1] = a[j]
		a[j + 1] = t
	}
	if (n == 0)
		return ""
	if (n % 2)
		return a[(n + 1) / 2]
	return (a[n / 2] + a[n / 2 + 1]) / 2
}
function worst(list,    n, a, i, m) {
	n = split(list, a, " ")
	m = ""
	for (i = 1; i <= n; i++)
		if (m == "" || a[i] + 0 > m + 0)
			m = a[i]
	return m
}
function add(k, name) {
	# "-" and negative counts: not applicable to this path
	if ($(c[name]) != "" && $(c[name]) != "-" && $(c[name]) !~ /^-/)
		v[k, name] = v[k, name] " " $(c[name])
}
NR == 1 && $1 == "mode" {
	for (i = 1; i <= NF; i++)
		c[$i] = i
	next
}
!("mode" in c) || $1 == "mode" { next }
{
	mode = $(c["mode"]); be = $(c["backend"]); ws = $(c["wset"])
	k = mode SUBSEP be SUBSEP ws SUBSEP $(c["mem_mib"]) SUBSEP $(c["clones"])
	if (!(k in runs)) {
		order[++ngroups] = k
		if (mode == "thawvm-cold")
			lab = "thawvm cold boot"
		else if (mode == "thawvm-restore")
			lab = "thawvm " be (ws == 1 ? "+wset" : "")
		else if (mode == "thawvm-rewind")
			lab = "thawvm " be " rewind"
		else if (mode == "qemu-cold")
			lab = "QEMU cold boot"
		else if (mode == "qemu-restore")
			lab = "QEMU migration restore"
		else if (mode == "qemu-template")
			lab = "QEMU x-ignore-shared"
		else
			lab = mode
		label[k] = lab
		key[k] = mode "," be "," ws "," $(c["mem_mib"]) "," $(c["clones"])
	}
	runs[k]++
	if ($(c["ok"]) == 1) {
		good[k]++
		add(k, "first_response_ms")
	}
	split("load_ms minflt kvm_exits kvm_pf vmm_exits uffd_faults uffd_pages pss_kib kvm_pages_2m warm_ms rewind_pages private_kib", names, " ")
	for (n in names)
		if (names[n] in c)
			add(k, names[n])
}
END {
	for (g = 1; g <= ngroups; g++) {
		k = order[g]
		printf "%s,%s,%d,%d,%s,%s", label[k], key[k], runs[k], good[k] + 0,
			median(v[k, "first_response_ms"]), worst(v[k, "first_response_ms"])
		split("load_ms minflt kvm_exits kvm_pf vmm_exits uffd_faults uffd_pages pss_kib kvm_pages_2m warm_ms", names, " ")
		for (n = 1; n <= 10; n++)
			printf ",%s", median(v[k, names[n]])
		f = median(v[k, "first_response_ms"]); w = median(v[k, "warm_ms"])
		printf ",%s", (f != "" && w != "" && w + 0 > 0) ? sprintf("%.1f", f - w) : ""
		printf ",%s,%s\n", median(v[k, "rewind_pages"]), median(v[k, "private_kib"])
	}
}
