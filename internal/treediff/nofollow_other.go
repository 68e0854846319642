//go:build !linux

package treediff

const noFollow = 0
