package bench

import (
	"fmt"
	"image/color"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// soakSeries is one line of a soak panel: a name and how to read its value
// from a sample, negative meaning unknown.
type soakSeries struct {
	name  string
	value func(SoakSample) float64
}

// soakPanels are the plot's panels, top to bottom.
var soakPanels = []struct {
	title, unit string
	series      []soakSeries
}{
	{"server memory", "MiB", []soakSeries{
		{"RSS", func(s SoakSample) float64 { return mibOrNeg(s.RSS) }},
		{"Go heap in use", func(s SoakSample) float64 { return mibOrNeg(s.HeapInuse) }},
	}},
	{"server goroutines", "goroutines", []soakSeries{{"goroutines", func(s SoakSample) float64 { return float64(s.Goroutines) }}}},
	{"server open file descriptors", "fds", []soakSeries{{"fds", func(s SoakSample) float64 { return float64(s.FDs) }}}},
	{"chat delivery p99 per interval", "ms", []soakSeries{
		{"delivery p99", func(s SoakSample) float64 { return s.DeliveryP99MS }},
		{"ack p99", func(s SoakSample) float64 { return s.AckP99MS }},
	}},
}

func mibOrNeg(v int64) float64 {
	if v < 0 {
		return -1
	}
	return float64(v) / (1 << 20)
}

var soakColors = []color.Color{color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}}

// plotSoak draws the samples of r as a PNG at path: memory, goroutines,
// descriptors and the delivery p99 over time, with dashed lines where the
// warm-up ends and the drain starts.
func plotSoak(path string, r *SoakResult) error {
	warmEnd, drainStart := -1.0, -1.0
	if r.Warm.Phase != "" {
		warmEnd = r.Warm.Seconds / 60
	}
	for _, s := range r.Samples {
		if s.Phase == "drain" {
			drainStart = s.Seconds / 60
			break
		}
	}
	end := 0.0
	if len(r.Samples) > 0 {
		end = r.Samples[len(r.Samples)-1].Seconds / 60
	}
	plots := make([][]*plot.Plot, len(soakPanels))
	for i, panel := range soakPanels {
		p := plot.New()
		p.Title.Text = panel.title
		p.X.Label.Text = "minutes"
		p.Y.Label.Text = panel.unit
		p.Y.Min = 0
		p.X.Min, p.X.Max = 0, end // one time axis for every panel
		p.Legend.Top = true
		lo, hi := 0.0, 0.0
		for k, ser := range panel.series {
			var pts plotter.XYs
			for _, s := range r.Samples {
				if v := ser.value(s); v >= 0 {
					pts = append(pts, plotter.XY{X: s.Seconds / 60, Y: v})
					hi = max(hi, v)
				}
			}
			if len(pts) == 0 {
				continue
			}
			l, err := plotter.NewLine(pts)
			if err != nil {
				return fmt.Errorf("soak: plot %s: %w", ser.name, err)
			}
			l.Color = soakColors[k%len(soakColors)]
			l.Width = vg.Points(1.2)
			p.Add(l)
			if len(panel.series) > 1 {
				p.Legend.Add(ser.name, l)
			}
		}
		for _, x := range []float64{warmEnd, drainStart} {
			if x < 0 || hi <= lo {
				continue
			}
			m, err := plotter.NewLine(plotter.XYs{{X: x, Y: lo}, {X: x, Y: hi}})
			if err != nil {
				return fmt.Errorf("soak: plot marker: %w", err)
			}
			m.Color = color.Gray{Y: 0x80}
			m.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			p.Add(m)
		}
		p.Add(plotter.NewGrid())
		plots[i] = []*plot.Plot{p}
	}
	img := vgimg.New(8*vg.Inch, vg.Length(2.4*float64(len(plots)))*vg.Inch)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: len(plots), Cols: 1, PadTop: vg.Points(6), PadBottom: vg.Points(6),
		PadLeft: vg.Points(6), PadRight: vg.Points(12), PadY: vg.Points(14)}
	canvases := plot.Align(plots, tiles, dc)
	for i := range plots {
		plots[i][0].Draw(canvases[i][0])
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("soak: png: %w", err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("soak: png %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("soak: png: %w", err)
	}
	return nil
}
