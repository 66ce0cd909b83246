package data

// compactRows holds the feature ids of an encoded table in the narrowest
// integer type each slot's cardinality allows: slots of at most 256 ids in
// bytes, of at most 65,536 in uint16, the rest in int32. Each width group
// is a row-major matrix stored in chunks of chunkRows rows, so a table
// that grows while a file is read is never copied (nor held twice).
type compactRows struct {
	n   int
	s8  []int // slots of each group, in slot order
	s16 []int
	s32 []int
	c8  [][]uint8
	c16 [][]uint16
	c32 [][]int32
}

const (
	chunkShift = 16
	chunkRows  = 1 << chunkShift
	chunkMask  = chunkRows - 1
)

func newCompactRows(features []Feature) *compactRows {
	c := &compactRows{}
	for j, f := range features {
		switch {
		case f.Cardinality <= 1<<8:
			c.s8 = append(c.s8, j)
		case f.Cardinality <= 1<<16:
			c.s16 = append(c.s16, j)
		default:
			c.s32 = append(c.s32, j)
		}
	}
	return c
}

// bytesPerRow is the storage of one row.
func (c *compactRows) bytesPerRow() int { return len(c.s8) + 2*len(c.s16) + 4*len(c.s32) }

// add appends rows of ids (row-major, F per row). The caller has checked
// every id against its slot's cardinality.
func (c *compactRows) add(ids []int32, F int) {
	for r := 0; r*F < len(ids); r++ {
		row := ids[r*F : (r+1)*F]
		o := c.n & chunkMask
		if o == 0 {
			c.c8 = append(c.c8, make([]uint8, chunkRows*len(c.s8)))
			c.c16 = append(c.c16, make([]uint16, chunkRows*len(c.s16)))
			c.c32 = append(c.c32, make([]int32, chunkRows*len(c.s32)))
		}
		k := len(c.c8) - 1
		if n := len(c.s8); n > 0 {
			dst := c.c8[k][o*n : (o+1)*n]
			for i, s := range c.s8 {
				dst[i] = uint8(row[s])
			}
		}
		if n := len(c.s16); n > 0 {
			dst := c.c16[k][o*n : (o+1)*n]
			for i, s := range c.s16 {
				dst[i] = uint16(row[s])
			}
		}
		if n := len(c.s32); n > 0 {
			dst := c.c32[k][o*n : (o+1)*n]
			for i, s := range c.s32 {
				dst[i] = row[s]
			}
		}
		c.n++
	}
}

// trim gives back the unused tail of the last chunk.
func (c *compactRows) trim() {
	k := len(c.c8) - 1
	if k < 0 {
		return
	}
	o := c.n - k*chunkRows
	c.c8[k] = append([]uint8(nil), c.c8[k][:o*len(c.s8)]...)
	c.c16[k] = append([]uint16(nil), c.c16[k][:o*len(c.s16)]...)
	c.c32[k] = append([]int32(nil), c.c32[k][:o*len(c.s32)]...)
}

// int64s writes row i's ids into dst (len F).
func (c *compactRows) int64s(i int, dst []int64) {
	k, o := i>>chunkShift, i&chunkMask
	if n := len(c.s8); n > 0 {
		for j, v := range c.c8[k][o*n : (o+1)*n] {
			dst[c.s8[j]] = int64(v)
		}
	}
	if n := len(c.s16); n > 0 {
		for j, v := range c.c16[k][o*n : (o+1)*n] {
			dst[c.s16[j]] = int64(v)
		}
	}
	if n := len(c.s32); n > 0 {
		for j, v := range c.c32[k][o*n : (o+1)*n] {
			dst[c.s32[j]] = int64(v)
		}
	}
}

// int32s writes row i's ids into dst (len F).
func (c *compactRows) int32s(i int, dst []int32) {
	k, o := i>>chunkShift, i&chunkMask
	if n := len(c.s8); n > 0 {
		for j, v := range c.c8[k][o*n : (o+1)*n] {
			dst[c.s8[j]] = int32(v)
		}
	}
	if n := len(c.s16); n > 0 {
		for j, v := range c.c16[k][o*n : (o+1)*n] {
			dst[c.s16[j]] = int32(v)
		}
	}
	if n := len(c.s32); n > 0 {
		for j, v := range c.c32[k][o*n : (o+1)*n] {
			dst[c.s32[j]] = v
		}
	}
}

// compactIDs holds a table's id strings end to end, per chunk of rows: a
// row's id costs its bytes and a 4-byte end offset (a []string costs a
// 16-byte header and an allocation per row, and holds pointers the
// collector must scan).
type compactIDs struct {
	n     int
	blobs [][]byte
	ends  [][]uint32
}

func (c *compactIDs) add(ids []string) {
	for _, s := range ids {
		if c.n&chunkMask == 0 {
			c.blobs = append(c.blobs, make([]byte, 0, 8*chunkRows))
			c.ends = append(c.ends, make([]uint32, 0, chunkRows))
		}
		k := len(c.blobs) - 1
		c.blobs[k] = append(c.blobs[k], s...)
		c.ends[k] = append(c.ends[k], uint32(len(c.blobs[k])))
		c.n++
	}
}

// trim gives back the unused capacity of the last chunk.
func (c *compactIDs) trim() {
	if k := len(c.blobs) - 1; k >= 0 {
		c.blobs[k] = append([]byte(nil), c.blobs[k]...)
		c.ends[k] = append([]uint32(nil), c.ends[k]...)
	}
}

func (c *compactIDs) at(i int) string {
	k, o := i>>chunkShift, i&chunkMask
	lo := uint32(0)
	if o > 0 {
		lo = c.ends[k][o-1]
	}
	return string(c.blobs[k][lo:c.ends[k][o]])
}
