package tray

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"strconv"

	"golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// IconSize is the side of the tray icon in pixels; tray hosts scale it.
const IconSize = 64

var badgeRed = color.RGBA{R: 0xd9, G: 0x2d, B: 0x20, A: 0xff}

// Render draws the app icon at IconSize with the count in a red badge at
// the top right (none for 0, "9+" above 9), greyed out when offline.
func Render(base image.Image, count int, offline bool) (*image.RGBA, error) {
	img := image.NewRGBA(image.Rect(0, 0, IconSize, IconSize))
	draw.CatmullRom.Scale(img, img.Bounds(), base, base.Bounds(), draw.Over, nil)
	if offline {
		greyOut(img)
	}
	if count <= 0 {
		return img, nil
	}
	label := strconv.Itoa(count)
	if count > 9 {
		label = "9+"
	}
	const d = 36 // badge diameter
	cx, cy := IconSize-d/2-1, d/2+1
	fillCircle(img, cx, cy, d/2+2, color.RGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xff})
	fillCircle(img, cx, cy, d/2, badgeRed)
	face, err := badgeFace(len(label))
	if err != nil {
		return nil, err
	}
	dr := &font.Drawer{Dst: img, Src: image.White, Face: face}
	w := dr.MeasureString(label).Ceil()
	m := face.Metrics()
	textH := (m.Ascent - m.Descent/2).Ceil()
	dr.Dot = fixed.P(cx-w/2, cy+textH/2-1)
	dr.DrawString(label)
	return img, nil
}

func badgeFace(chars int) (font.Face, error) {
	f, err := opentype.Parse(gobold.TTF)
	if err != nil {
		return nil, fmt.Errorf("badge font: %w", err)
	}
	size := 26.0
	if chars > 1 {
		size = 20
	}
	return opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
}

// fillCircle paints a disc blended over img, its edge anti-aliased.
func fillCircle(img *image.RGBA, cx, cy, r int, c color.RGBA) {
	for y := cy - r - 1; y <= cy+r+1; y++ {
		for x := cx - r - 1; x <= cx+r+1; x++ {
			if !image.Pt(x, y).In(img.Bounds()) {
				continue
			}
			dist := math.Hypot(float64(x-cx), float64(y-cy))
			cover := math.Max(0, math.Min(1, float64(r)+0.5-dist))
			if cover == 0 {
				continue
			}
			under := img.RGBAAt(x, y)
			mix := func(a, b uint8) uint8 { return uint8(float64(a)*cover + float64(b)*(1-cover) + 0.5) }
			img.SetRGBA(x, y, color.RGBA{mix(c.R, under.R), mix(c.G, under.G), mix(c.B, under.B), mix(c.A, under.A)})
		}
	}
}

// greyOut turns the icon grey and half transparent, the usual look of an
// app that is not connected.
func greyOut(img *image.RGBA) {
	for i := 0; i < len(img.Pix); i += 4 {
		p := img.Pix[i : i+4 : i+4]
		l := uint8((299*uint32(p[0]) + 587*uint32(p[1]) + 114*uint32(p[2])) / 1000)
		p[0], p[1], p[2], p[3] = l/2, l/2, l/2, p[3]/2
	}
}

// EncodePNG encodes an icon as PNG (Linux and macOS trays).
func EncodePNG(img image.Image) ([]byte, error) {
	var b bytes.Buffer
	err := png.Encode(&b, img)
	return b.Bytes(), err
}

// EncodeICO wraps an icon's PNG in an .ico file with one image, the form
// Windows' tray wants (PNG entries are valid since Windows Vista).
func EncodeICO(img image.Image) ([]byte, error) {
	pngBytes, err := EncodePNG(img)
	if err != nil {
		return nil, err
	}
	size := img.Bounds().Dx()
	if size >= 256 {
		size = 0 // 0 means 256 in an ICONDIRENTRY
	}
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, [3]uint16{0, 1, 1}) // reserved, type icon, one image
	b.Write([]byte{byte(size), byte(size), 0, 0})             // width, height, palette, reserved
	binary.Write(&b, binary.LittleEndian, [2]uint16{1, 32})   // colour planes, bits per pixel
	binary.Write(&b, binary.LittleEndian, [2]uint32{uint32(len(pngBytes)), 6 + 16})
	b.Write(pngBytes)
	return b.Bytes(), nil
}
