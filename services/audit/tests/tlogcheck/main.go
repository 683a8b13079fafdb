// An independent verifier for the audit log's checkpoints and proofs, built on the Go
// checksum database's own packages (golang.org/x/mod/sumdb/note and sumdb/tlog). The Python
// tests feed it what the audit service serves and compare its verdicts with their own.
//
// Input (stdin, JSON): {"verifier": "...", "notes": ["..."], "leaves": {"N": "base64 leaf"},
// "inclusion": [{"note": i, "index": N, "proof": ["base64"]}],
// "consistency": [{"from_note": i, "to_note": j, "proof": ["base64"]}]}
// Output (stdout, JSON): {"notes": [{"ok": bool, "size": N, "error": "..."}],
// "inclusion": [{"ok": bool, "error": "..."}], "consistency": [...]}
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type input struct {
	Verifier  string            `json:"verifier"`
	Notes     []string          `json:"notes"`
	Leaves    map[string]string `json:"leaves"`
	Inclusion []struct {
		Note  int      `json:"note"`
		Index int64    `json:"index"`
		Proof []string `json:"proof"`
	} `json:"inclusion"`
	Consistency []struct {
		FromNote int      `json:"from_note"`
		ToNote   int      `json:"to_note"`
		Proof    []string `json:"proof"`
	} `json:"consistency"`
}

type verdict struct {
	OK    bool   `json:"ok"`
	Size  int64  `json:"size,omitempty"`
	Error string `json:"error,omitempty"`
}

func hashes(in []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(in))
	for i, s := range in {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b) != tlog.HashSize {
			return nil, fmt.Errorf("proof hash %d is not 32 base64 bytes", i)
		}
		copy(out[i][:], b)
	}
	return out, nil
}

func result(err error, size int64) verdict {
	if err != nil {
		return verdict{OK: false, Error: err.Error()}
	}
	return verdict{OK: true, Size: size}
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	out := struct {
		Notes       []verdict `json:"notes"`
		Inclusion   []verdict `json:"inclusion"`
		Consistency []verdict `json:"consistency"`
	}{[]verdict{}, []verdict{}, []verdict{}}

	v, err := note.NewVerifier(in.Verifier)
	if err != nil {
		fmt.Fprintln(os.Stderr, "verifier key:", err)
		os.Exit(2)
	}
	trees := make([]*tlog.Tree, len(in.Notes))
	for i, text := range in.Notes {
		n, err := note.Open([]byte(text), note.VerifierList(v))
		if err == nil {
			var t tlog.Tree
			t, err = parseCheckpoint(n.Text)
			if err == nil {
				trees[i] = &t
			}
		}
		var size int64
		if trees[i] != nil {
			size = trees[i].N
		}
		out.Notes = append(out.Notes, result(err, size))
	}
	for _, c := range in.Inclusion {
		err := func() error {
			t := trees[c.Note]
			if t == nil {
				return fmt.Errorf("note %d did not verify", c.Note)
			}
			leaf, err := base64.StdEncoding.DecodeString(in.Leaves[strconv.FormatInt(c.Index, 10)])
			if err != nil {
				return err
			}
			p, err := hashes(c.Proof)
			if err != nil {
				return err
			}
			return tlog.CheckRecord(p, t.N, t.Hash, c.Index, tlog.RecordHash(leaf))
		}()
		out.Inclusion = append(out.Inclusion, result(err, 0))
	}
	for _, c := range in.Consistency {
		err := func() error {
			from, to := trees[c.FromNote], trees[c.ToNote]
			if from == nil || to == nil {
				return fmt.Errorf("a note did not verify")
			}
			p, err := hashes(c.Proof)
			if err != nil {
				return err
			}
			return tlog.CheckTree(p, to.N, to.Hash, from.N, from.Hash)
		}()
		out.Consistency = append(out.Consistency, result(err, 0))
	}
	json.NewEncoder(os.Stdout).Encode(out)
}

// parseCheckpoint reads a C2SP tlog-checkpoint body: origin, size, base64 root hash (any
// extension lines after them are ignored). tlog.ParseTree expects the go.sum "go.sum database
// tree" origin, so the three lines are read here with tlog's own types.
func parseCheckpoint(text string) (tlog.Tree, error) {
	var origin, size, root string
	lines := splitLines(text)
	if len(lines) < 3 {
		return tlog.Tree{}, fmt.Errorf("malformed checkpoint")
	}
	origin, size, root = lines[0], lines[1], lines[2]
	if origin == "" {
		return tlog.Tree{}, fmt.Errorf("empty origin")
	}
	n, err := strconv.ParseInt(size, 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != size {
		return tlog.Tree{}, fmt.Errorf("malformed size %q", size)
	}
	h, err := tlog.ParseHash(root)
	if err != nil {
		return tlog.Tree{}, err
	}
	return tlog.Tree{N: n, Hash: h}, nil
}

func splitLines(text string) []string {
	var out []string
	start := 0
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' {
			out = append(out, text[start:i])
			start = i + 1
		}
	}
	return out
}
