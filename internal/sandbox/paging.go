package sandbox

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// page returns the slice bounds for a page of size items of n, starting at the
// position the token encodes ("" = first page), and the token of the next page ("" =
// last page). ok is false when the token is not one this sandbox issued.
func page(token string, n, size int) (start, end int, next string, ok bool) {
	if token != "" {
		raw, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil {
			return 0, 0, "", false
		}
		idx, found := strings.CutPrefix(string(raw), "sandbox-page:")
		if !found {
			return 0, 0, "", false
		}
		start, err = strconv.Atoi(idx)
		if err != nil || start < 0 || start > n {
			return 0, 0, "", false
		}
	}
	end = min(n, start+max(size, 1))
	if end < n {
		next = pageToken(end)
	}
	return start, end, next, true
}

func pageToken(i int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("sandbox-page:" + strconv.Itoa(i)))
}
