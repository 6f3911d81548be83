package main

import (
	"strconv"

	"github.com/dlrun/dlrun/run"
)

// The flag values of the data options (modelFlags): each makes the part
// of the configuration it sets (Config.Images) when it is set, so that a
// run that sets none records none.

// imageSize sets the size an image folder's images are resized to.
type imageSize struct{ c *run.Config }

func (v imageSize) String() string {
	if v.c.Images == nil {
		return ""
	}
	return v.c.Images.Size
}
func (v imageSize) Type() string { return "HxW" }
func (v imageSize) Set(s string) error {
	if _, _, err := run.ParseImageSize(s); err != nil {
		return rangeError{"want HxW, a height and a width in pixels (28x28), or N for NxN"}
	}
	images(v.c).Size = s
	return nil
}

// imageChannels sets the channels of an image folder's images.
type imageChannels struct{ c *run.Config }

func (v imageChannels) String() string {
	if v.c.Images == nil {
		return "0"
	}
	return strconv.Itoa(v.c.Images.Channels)
}
func (v imageChannels) Type() string { return "int" }
func (v imageChannels) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return err
	}
	if n != 1 && n != 3 {
		return rangeError{"want 1 (grayscale) or 3 (RGB)"}
	}
	images(v.c).Channels = n
	return nil
}

// imageAugment sets the augmentation of an image folder's training images.
type imageAugment struct{ c *run.Config }

func (v imageAugment) String() string {
	if v.c.Images == nil {
		return ""
	}
	return v.c.Images.Augment
}
func (v imageAugment) Type() string { return "list" }
func (v imageAugment) Set(s string) error {
	images(v.c).Augment = s
	return nil
}

// skipBad sets whether unreadable images are skipped.
type skipBad struct{ c *run.Config }

func (v skipBad) String() string   { return strconv.FormatBool(v.c.Images != nil && v.c.Images.SkipBad) }
func (v skipBad) Type() string     { return "bool" }
func (v skipBad) IsBoolFlag() bool { return true }
func (v skipBad) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	images(v.c).SkipBad = b
	return nil
}

// images returns c's image options, making them.
func images(c *run.Config) *run.ImageConfig {
	if c.Images == nil {
		c.Images = &run.ImageConfig{}
	}
	return c.Images
}
