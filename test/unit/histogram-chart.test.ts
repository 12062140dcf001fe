import { describe, expect, test } from "bun:test";
import sharp from "sharp";
import { loadLocalWasm } from "../../src/adapters/bun/wasm.ts";
import { type ColourSpace, histogramRgba } from "../../src/core/analysis/histogram.ts";
import { chartRgba, chartSvg, histogramChart } from "../../src/core/analysis/histogram-chart.ts";
import { createCodecs } from "../../src/core/formats/codecs.ts";
import type { RgbaImage } from "../../src/core/imaging/raster.ts";

// 64×48: red across, green down, blue falling both ways; the bottom row transparent.
const width = 64;
const height = 48;
const data = new Uint8ClampedArray(width * height * 4);
for (let y = 0; y < height; y++) {
  for (let x = 0; x < width; x++) {
    data.set([x * 4, y * 5, 250 - x - 2 * y, y === height - 1 ? 0 : 255], (y * width + x) * 4);
  }
}
const image: RgbaImage = { data, width, height };

/** Every element closed in order, and nothing outside the root: well-formed as far as tags go. */
function tagsBalance(xml: string): boolean {
  const stack: string[] = [];
  for (const [, close, name, , selfClosing] of xml.matchAll(/<(\/?)([\w:-]+)([^>]*?)(\/?)>/g)) {
    if (selfClosing) {
      if (stack.length === 0) return false;
    } else if (close) {
      if (stack.pop() !== name) return false;
    } else {
      if (stack.length === 0 && name !== "svg") return false;
      stack.push(name as string);
    }
  }
  return stack.length === 0;
}

const texts = (svg: string) => [...svg.matchAll(/<text [^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
const paths = (svg: string) => [...svg.matchAll(/<path data-channel="(\w+)"/g)].map((m) => m[1]);

describe("histogram chart as SVG", () => {
  test("a standalone document with one path per channel, axis labels and a title", async () => {
    const svg = chartSvg(histogramChart(histogramRgba(image, "rgb", 256)));
    expect(
      svg.startsWith(
        '<svg xmlns="http://www.w3.org/2000/svg" width="800" height="400" viewBox="0 0 800 400"',
      ),
    ).toBe(true);
    expect(tagsBalance(svg)).toBe(true);
    expect(paths(svg)).toEqual(["r", "g", "b"]);
    const labels = texts(svg);
    expect(labels[0]).toBe("rgb histogram, 256 bins, 3008 pixels");
    for (const edge of ["0", "32", "64", "96", "128", "160", "192", "224", "256"]) {
      expect(labels).toContain(edge);
    }
    // The tallest bins hold 64 pixels (a row of one green): the count axis rises in 20s to 80.
    expect(labels).toEqual(expect.arrayContaining(["0", "20", "40", "60", "80"]));
    expect(svg).toContain(`<title>rgb histogram, 256 bins, 3008 pixels</title>`);
    // librsvg (inside sharp) refuses XML that is not well-formed.
    expect(await sharp(Buffer.from(svg)).metadata()).toMatchObject({
      format: "svg",
      width: 800,
      height: 400,
    });
  });

  test("HSV and Lab: a panel per channel, each with the x axis of its own range", () => {
    const lab = chartSvg(histogramChart(histogramRgba(image, "lab", 64)));
    expect(paths(lab)).toEqual(["l", "a", "b"]);
    const labels = texts(lab);
    expect(labels).toEqual(expect.arrayContaining(["0", "50", "100", "-128", "-64", "64", "128"]));
    const hsv = chartSvg(histogramChart(histogramRgba(image, "hsv", 16)));
    expect(paths(hsv)).toEqual(["h", "s", "v"]);
    expect(texts(hsv)).toEqual(expect.arrayContaining(["45", "360", "0.25", "0.5", "1"]));
    expect(hsv).toContain('height="622"');
    const luma = chartSvg(histogramChart(histogramRgba(image, "luma", 256)));
    expect(paths(luma)).toEqual(["y"]);
  });

  test("text is escaped", () => {
    const model = histogramChart(histogramRgba(image, "luma", 4));
    model.shapes.push({
      kind: "text",
      x: 0,
      y: 0,
      text: `a<b & "c"`,
      scale: 1,
      colour: [0, 0, 0],
      anchor: "start",
    });
    expect(chartSvg(model)).toContain(">a&lt;b &amp; &quot;c&quot;</text>");
  });
});

describe("histogram chart as PNG", () => {
  const codecs = createCodecs(loadLocalWasm);

  for (const [space, size, colours] of [
    [
      "rgb",
      [800, 400],
      [
        [214, 39, 40],
        [44, 160, 44],
        [31, 119, 180],
      ],
    ],
    [
      "lab",
      [800, 622],
      [
        [85, 85, 85],
        [194, 24, 91],
        [214, 150, 0],
      ],
    ],
  ] as [ColourSpace, number[], [number, number, number][]][]) {
    test(`${space}: decodes at the declared size, with each curve's colour drawn`, async () => {
      const model = histogramChart(histogramRgba(image, space, 64));
      const png = await codecs.encode(chartRgba(model), { format: "png" });
      const { data: px, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
      expect([info.width, info.height, info.channels]).toEqual([...size, 4]);
      for (const [r, g, b] of colours) {
        // Anti-aliased: most of a curve is its colour at 3/4 coverage or more, over white.
        let n = 0;
        for (let i = 0; i < px.length; i += 4) {
          const d = Math.hypot(
            (px[i] as number) - r,
            (px[i + 1] as number) - g,
            (px[i + 2] as number) - b,
          );
          if (d < 0.25 * Math.hypot(255 - r, 255 - g, 255 - b)) n++;
        }
        // The legend's letter accounts for fewer than 40 of them.
        expect(n).toBeGreaterThan(400);
      }
    });
  }

  test("the raster agrees with librsvg's rendering of the SVG", async () => {
    const model = histogramChart(histogramRgba(image, "hsv", 32));
    const ours = chartRgba(model).data;
    const theirs = await sharp(Buffer.from(chartSvg(model)))
      .ensureAlpha()
      .raw()
      .toBuffer();
    expect(theirs.length).toBe(ours.length);
    let diff = 0;
    for (let i = 0; i < ours.length; i++)
      diff += Math.abs((ours[i] as number) - (theirs[i] as number));
    // Text is drawn in different fonts; the curves, fills, axes and grid coincide.
    expect(diff / ours.length).toBeLessThan(1.5);
  });
});
