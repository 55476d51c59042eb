package config

import "strings"

// closest returns the candidate nearest to name by edit distance, ignoring
// case, when it is near enough to be a likely typo of it: at most one edit
// for names of up to 7 characters, two up to 11 and three beyond. An edit
// is inserting, deleting or changing one character, or swapping two
// adjacent ones. prefix, which name and every candidate share (such as
// "PARLEY_"), is left out of the length. Ties go to the earlier candidate.
// It returns "" when nothing is near enough.
func closest(name, prefix string, candidates []string) string {
	limit := min(max(len(strings.TrimPrefix(name, prefix))/4, 1), 3)
	best, bestDist := "", limit+1
	for _, c := range candidates {
		if d := editDistance(strings.ToUpper(name), strings.ToUpper(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance returns the optimal string alignment distance between a and
// b: the fewest insertions, deletions, substitutions and swaps of adjacent
// bytes that turn a into b, no substring being edited twice. Names here are
// ASCII, so bytes are characters.
func editDistance(a, b string) int {
	// Three rows of the usual dynamic-programming table: the row for
	// a[:i-2], a[:i-1] and a[:i].
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
