package report

import (
	"bytes"
	"fmt"
	"html/template"
	"strconv"
	"unicode/utf8"
)

// Chart is a small bar chart rendered as inline SVG: the few kinds the HTML report
// (and the dashboard) draw, written here rather than taken from a charting library so
// that the page stays one file with no script, font or style of its own, every label
// is escaped by html/template, and every value can be read back from the markup
// (data-label, data-value) by people, screen readers and tests.
//
// Bars draws one horizontal bar per item, its label on the left and its value on the
// right (key ages, MFA coverage, risk per account). Columns draws one vertical column
// per item along a time axis (the CloudTrail timeline), labelling every Nth one.
type Chart struct {
	Kind ChartKind
	// ID names the chart in the page (its id attribute, for links and tests).
	ID    string
	Title string
	// Max is the value of a full-length bar; 0: the largest value (at least 1).
	Max  int
	Bars []ChartBar
	// Values (Columns) writes each column's text above it, keeps columns at most
	// colValueMaxW wide (a few runs do not fill the chart with slabs) and labels
	// as many columns as there is room for: the dashboard's trends across runs.
	Values bool
}

// ChartKind is the shape of a chart.
type ChartKind int

// Chart kinds.
const (
	Bars ChartKind = iota
	Columns
)

// ChartBar is one bar. Text is what is written beside it (default: the value); a
// bar that is not Known is drawn as an outline up to its lower bound Value, and its
// Text should say so ("unknown (≥ 40)").
type ChartBar struct {
	Label string
	Value int
	Text  string
	// Class styles the bar (e.g. "sev-critical", "risk-high"); CSS classes only, never
	// a value from AWS.
	Class   string
	Unknown bool
	// Href links the bar's label to an anchor of the page ("#acct-…"), when not empty.
	Href string
}

// Geometry of the charts, in SVG user units (the SVG scales to its container).
const (
	barRow, barHeight, barLabelW, barValueW, barWidth = 22, 14, 200, 120, 600
	colHeight, colTop, colBottom, colMinW, colWidth   = 150, 14, 24, 4, 720
	colValueMaxW, colLabelW                           = 72, 100
	// chartLabelRunes is how much of a label a chart writes; the whole label is in
	// the bar's <title> (a tooltip) and in data-label.
	chartLabelRunes = 24
)

type svgBar struct {
	Label, Short, Text, Class, Href string
	Value                           int
	Unknown                         bool
	X, Y, W, H, TX, TY, LX, LY      int
	ShowLabel                       bool
}

type svgChart struct {
	ID, Title, Kind string
	W, H, Max       int
	Bars            []svgBar
	AxisY, AxisX2   int
	Values          bool
}

var chartTemplate = template.Must(template.New("chart").Parse(
	`<svg class="chart chart-{{.Kind}}"{{if .ID}} id="{{.ID}}"{{end}} viewBox="0 0 {{.W}} {{.H}}" role="img" aria-label="{{.Title}}" data-max="{{.Max}}">` +
		`<title>{{.Title}}</title>` +
		`{{range .Bars}}<g class="bar {{.Class}}{{if .Unknown}} unknown{{end}}" data-label="{{.Label}}" data-value="{{.Value}}"{{if .Unknown}} data-unknown="true"{{end}}>` +
		`<title>{{.Label}}: {{.Text}}</title>` +
		`{{if .ShowLabel}}{{if .Href}}<a href="{{.Href}}">{{end}}<text class="label" x="{{.LX}}" y="{{.LY}}">{{.Short}}</text>{{if .Href}}</a>{{end}}{{end}}` +
		`<rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}"></rect>` +
		`{{if $.IsBars}}<text class="value" x="{{.TX}}" y="{{.TY}}">{{.Text}}</text>{{else if $.Values}}<text class="value" text-anchor="middle" x="{{.TX}}" y="{{.TY}}">{{.Text}}</text>{{end}}</g>{{end}}` +
		`{{if not .IsBars}}<line class="axis" x1="0" y1="{{.AxisY}}" x2="{{.AxisX2}}" y2="{{.AxisY}}"></line>` +
		`<text class="max" x="0" y="10">{{.Max}}</text>{{end}}</svg>`))

// IsBars tells the template which kind it draws.
func (c svgChart) IsBars() bool { return c.Kind == "bars" }

// SVG renders the chart. Labels and texts are escaped by html/template; the result
// is safe to place in a page.
func (c Chart) SVG() (template.HTML, error) {
	top := c.Max
	for _, b := range c.Bars {
		if c.Max == 0 && b.Value > top {
			top = b.Value
		}
	}
	top = max1(top)
	v := svgChart{ID: c.ID, Title: c.Title, Max: top}
	switch c.Kind {
	case Columns:
		v.Kind = "columns"
		n := max1(len(c.Bars))
		step := max(colMinW, colWidth/n)
		every := max1((n + 7) / 8) // about eight labels along the axis
		plotTop := colTop
		if c.Values {
			v.Values = true
			step = min(step, colValueMaxW)
			every = max1((colLabelW + step - 1) / step)
			plotTop += 12 // room for the values above the highest column
		}
		v.W, v.H = max(colWidth, step*n), colHeight
		v.AxisY, v.AxisX2 = colHeight-colBottom, v.W
		plot := colHeight - colBottom - plotTop
		for i, b := range c.Bars {
			h := scale(b.Value, top, plot)
			v.Bars = append(v.Bars, svgBar{Label: b.Label, Short: short(b.Label), Text: barText(b), Class: b.Class,
				Href: b.Href, Value: b.Value, Unknown: b.Unknown,
				X: i*step + 1, Y: colHeight - colBottom - h, W: max(1, step-2), H: h,
				TX: i*step + step/2, TY: colHeight - colBottom - h - 3,
				LX: i * step, LY: colHeight - 6, ShowLabel: i%every == 0})
		}
	default:
		v.Kind = "bars"
		v.W, v.H = barWidth, max1(len(c.Bars))*barRow+4
		plot := barWidth - barLabelW - barValueW
		for i, b := range c.Bars {
			w := scale(b.Value, top, plot)
			y := i*barRow + 4
			v.Bars = append(v.Bars, svgBar{Label: b.Label, Short: short(b.Label), Text: barText(b), Class: b.Class,
				Href: b.Href, Value: b.Value, Unknown: b.Unknown, ShowLabel: true,
				X: barLabelW, Y: y, W: w, H: barHeight, TX: barLabelW + w + 6, TY: y + barHeight - 3,
				LX: barLabelW - 6, LY: y + barHeight - 3})
		}
	}
	var b bytes.Buffer
	if err := chartTemplate.Execute(&b, chartView{v}); err != nil {
		return "", fmt.Errorf("chart %s: %w", c.ID, err)
	}
	return template.HTML(b.String()), nil // produced (and escaped) by html/template above
}

// chartView gives the template IsBars beside the chart's fields.
type chartView struct{ svgChart }

// scale is v's length on a plot of size for a full value of top; a non-zero value
// is never drawn as nothing, and a value above top is drawn full length.
func scale(v, top, size int) int {
	if v <= 0 {
		return 0
	}
	return max(1, min(v, top)*size/top)
}

func max1(n int) int { return max(n, 1) }

func barText(b ChartBar) string {
	if b.Text != "" {
		return b.Text
	}
	return strconv.Itoa(b.Value)
}

// short is the start of a label that a chart has room for.
func short(s string) string {
	if utf8.RuneCountInString(s) <= chartLabelRunes {
		return s
	}
	r := []rune(s)
	return string(r[:chartLabelRunes-1]) + "…"
}
