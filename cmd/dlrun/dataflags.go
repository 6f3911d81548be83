package main

import (
	"strconv"
	"strings"

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

// tableTarget sets the column a CSV table's run predicts.
type tableTarget struct{ c *run.Config }

func (v tableTarget) String() string {
	if v.c.Table == nil {
		return ""
	}
	return v.c.Table.Target
}
func (v tableTarget) Type() string { return "COLUMN" }
func (v tableTarget) Set(s string) error {
	if strings.TrimSpace(s) == "" {
		return rangeError{"name the column to predict"}
	}
	table(v.c).Target = strings.TrimSpace(s)
	return nil
}

// tableFill sets how a CSV table's missing values are filled.
type tableFill struct{ c *run.Config }

func (v tableFill) String() string {
	if v.c.Table == nil {
		return ""
	}
	return v.c.Table.Fill
}
func (v tableFill) Type() string { return "mean|zero" }
func (v tableFill) Set(s string) error {
	if s != "mean" && s != "zero" {
		return rangeError{"want mean or zero"}
	}
	table(v.c).Fill = s
	return nil
}

// tableIgnore sets the columns of a CSV table left out.
type tableIgnore struct{ c *run.Config }

func (v tableIgnore) String() string {
	if v.c.Table == nil {
		return ""
	}
	return strings.Join(v.c.Table.Ignore, ",")
}
func (v tableIgnore) Type() string { return "COLUMNS" }
func (v tableIgnore) Set(s string) error {
	for _, n := range strings.Split(s, ",") {
		if n = strings.TrimSpace(n); n != "" {
			table(v.c).Ignore = append(table(v.c).Ignore, n)
		}
	}
	return nil
}

// tableTest sets a CSV table's file of test rows.
type tableTest struct{ c *run.Config }

func (v tableTest) String() string {
	if v.c.Table == nil {
		return ""
	}
	return v.c.Table.Test
}
func (v tableTest) Type() string { return "FILE" }
func (v tableTest) Set(s string) error {
	table(v.c).Test = s
	return nil
}

// table returns c's table options, making them.
func table(c *run.Config) *run.TableConfig {
	if c.Table == nil {
		c.Table = &run.TableConfig{}
	}
	return c.Table
}
