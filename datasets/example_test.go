package datasets_test

import (
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"

	"github.com/dlrun/dlrun/datasets"
)

// Open a folder of images, one folder per class, with a fifth of each
// class held out for testing, and read an image.
func ExampleOpenImageFolder() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	for i := range 10 {
		class := []string{"cat", "dog"}[i%2]
		img := image.NewGray(image.Rect(0, 0, 4, 3))
		img.Pix[0] = uint8(25 * i)
		os.MkdirAll(filepath.Join(dir, class), 0o755)
		f, _ := os.Create(filepath.Join(dir, class, fmt.Sprintf("%d.png", i)))
		png.Encode(f, img)
		f.Close()
	}
	folder, err := datasets.OpenImageFolder(dir, datasets.ImageFolderOptions{})
	if err != nil {
		panic(err)
	}
	x := make([]float32, 1*3*4)
	label, err := folder.Train.Read(0, x, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(folder.Classes, folder.Shape, folder.Train.Len(), folder.Test.Len())
	fmt.Println(filepath.Base(folder.Train.Path(0)), folder.Classes[label], x[0])
	// Output:
	// [cat dog] [1 3 4] 8 2
	// 0.png cat 0
}

// Read a CSV table: the target's text makes it a classification; the
// numeric column is standardised by the training rows and the category
// one-hot; a new row goes through the same preprocessing.
func ExampleLoadTable() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "plants.csv")
	os.WriteFile(path, []byte("height,soil,kind\n"+
		"10,clay,herb\n12,sand,herb\n11,clay,herb\n9,sand,herb\n10,clay,herb\n"+
		"30,sand,shrub\n34,clay,shrub\n31,sand,shrub\n29,clay,shrub\n33,sand,shrub\n"), 0o644)
	table, err := datasets.LoadTable(path, datasets.TableOptions{Target: "kind"})
	if err != nil {
		panic(err)
	}
	p := table.Preprocessing
	fmt.Println(p.Task, p.Classes, p.Inputs(), table.Train.Len(), table.Test.Len())
	enc, _ := p.Encoder([]string{"soil", "height"})
	x := make([]float32, p.Width())
	enc.Encode([]string{"sand", "21"}, x)
	fmt.Printf("%.2f\n", x)
	// Output:
	// classify [herb shrub] [height soil=clay soil=sand] 8 2
	// [-0.02 0.00 1.00]
}
