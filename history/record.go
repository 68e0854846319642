package history

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/sdbuild/sdbuild/api"
)

// record is a build ready to be written, encoded before the transaction so
// that Batch running the write twice does not encode twice, and the write
// never reads the caller's Build.
type record struct {
	id     []byte
	uid    uint32
	status api.Status
	data   []byte
}

func encode(b *api.Build) (record, error) {
	if b == nil || b.ID == "" {
		return record{}, ErrNoID
	}
	data, err := json.Marshal(b)
	if err != nil {
		return record{}, err
	}
	return record{id: []byte(b.ID), uid: b.UID, status: b.Status, data: data}, nil
}

// decodeBuild decodes record v, stored under seq. Unknown fields, written by
// a newer sdbuildd, are ignored.
func decodeBuild(seq, v []byte) (*api.Build, error) {
	b := new(api.Build)
	if err := json.Unmarshal(v, b); err != nil {
		return nil, fmt.Errorf("decode record %x: %w (%w)", seq, ErrCorrupt, err)
	}
	return b, nil
}

// seqKey encodes a sequence number as a key of the builds and active
// buckets. Big-endian, so byte order is numeric order.
func seqKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), seq)
}

// uidKey is the uids bucket's key: a user's builds sort together, and by
// creation within the user.
func uidKey(uid uint32, seq []byte) []byte {
	k := binary.BigEndian.AppendUint32(make([]byte, 0, 12), uid)
	return append(k, seq...)
}

// summary is the part of a record that List filters on. Decoding only these
// fields skips allocating everything else for records the filter rejects.
type summary struct {
	Name   string     `json:"name"`
	UID    uint32     `json:"uid"`
	Status api.Status `json:"status"`
}

func decodeSummary(seq, v []byte) (summary, error) {
	var s summary
	if err := json.Unmarshal(v, &s); err != nil {
		return s, fmt.Errorf("decode record %x: %w (%w)", seq, ErrCorrupt, err)
	}
	return s, nil
}
