package history

import (
	"bytes"

	bolt "go.etcd.io/bbolt"
)

// IDsWithPrefix returns the ids of recorded builds that start with
// prefix, in id order, at most max of them (more means the prefix is too
// short to matter which). The id index is sorted, so this is one seek.
func (s *Store) IDsWithPrefix(prefix string, max int) ([]string, error) {
	var ids []string
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketIDs).Cursor()
		p := []byte(prefix)
		for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p) && len(ids) < max; k, _ = c.Next() {
			ids = append(ids, string(k))
		}
		return nil
	})
	return ids, err
}
