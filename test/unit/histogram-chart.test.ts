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
    // a and b span the values present (-63…89 and -106…67), rounded out to 50s, not ±128.
    expect(labels).toEqual(expect.arrayContaining(["0", "50", "100", "-100", "-50"]));
    expect(labels).not.toContain("-128");
    expect(labels).not.toContain("128");
    const hsv = chartSvg(histogramChart(histogramRgba(image, "hsv", 16)));
    expect(paths(hsv)).toEqual(["h", "s", "v"]);
    expect(texts(hsv)).toEqual(expect.arrayContaining(["45", "360", "0.25", "0.5", "1"]));
    expect(hsv).toContain('height="622"');
    const luma = chartSvg(histogramChart(histogramRgba(image, "luma", 256)));
    expect(paths(luma)).toEqual(["y"]);
  });

  test("scale=log: counts by decades, so a huge bin does not flatten the others", () => {
    // A photo's clipped shadows: 10 000 black pixels, then one pixel at each level 1…255.
    const w = 10_255;
    const px = new Uint8ClampedArray(w * 4);
    for (let i = 0; i < w; i++) {
      const level = Math.max(0, i - 10_000);
      px.set([level, level, level, 255], i * 4);
    }
    const h = histogramRgba({ data: px, width: w, height: 1 }, "luma", 256);
    // The curve's height over the baseline (y = 356) in the middle bins, in pixels.
    const rise = (svg: string) => {
      const d = /<path data-channel="y" d="([^"]+)"/.exec(svg)?.[1] ?? "";
      const ys = [...d.matchAll(/[ML][\d.]+ ([\d.]+)/g)].map((m) => Number(m[1]));
      return 356 - Math.min(...ys.slice(100, 150));
    };
    const linear = chartSvg(histogramChart(h));
    const log = chartSvg(histogramChart(h, { scale: "log" }));
    expect(rise(linear)).toBeLessThan(1);
    // log10(2) / log10(100 001) of the 312-pixel panel: about 19 pixels.
    expect(rise(log)).toBeGreaterThan(15);
    const labels = texts(log);
    expect(labels[0]).toBe("luma histogram, 256 bins, 10255 pixels, log scale");
    expect(labels).toEqual(expect.arrayContaining(["0", "1", "10", "100", "1k", "10k", "100k"]));
    expect(texts(linear)).not.toContain("100k");
  });

  test("Lab's a and b axes are fitted to the colours present, L keeps 0–100", () => {
    // Muted blue-greys, as much of a real photo is: a within about ±10, b within -25…0.
    const w = 64;
    const px = new Uint8ClampedArray(w * w * 4);
    for (let i = 0; i < w * w; i++) {
      const v = 80 + (i % w);
      px.set([v, v + 8, v + 30, 255], i * 4);
    }
    const h = histogramRgba({ data: px, width: w, height: w }, "lab", 256);
    const [, a, b] = h.channels;
    // The bin-edge labels (centred, small) of each panel, top to bottom: L, a, b.
    const panels = new Map<number, number[]>();
    for (const shape of histogramChart(h).shapes) {
      if (shape.kind !== "text" || shape.anchor !== "middle" || shape.scale !== 1) continue;
      panels.set(shape.y, [...(panels.get(shape.y) ?? []), Number(shape.text)]);
    }
    const [l, aTicks, bTicks] = [...panels.values()];
    expect(l).toEqual([0, 12.5, 25, 37.5, 50, 62.5, 75, 87.5, 100]);
    for (const [channel, ticks] of [
      [a, aTicks],
      [b, bTicks],
    ] as const) {
      if (!channel || !ticks) throw new Error("expected the a and b panels");
      const first = ticks[0] as number;
      const last = ticks[ticks.length - 1] as number;
      // Every value present is on the axis, which spans a quarter of ±128 at most.
      expect(first).toBeLessThanOrEqual(channel.min);
      expect(last).toBeGreaterThanOrEqual(channel.max);
      expect(last - first).toBeLessThanOrEqual(64);
      expect(ticks.length).toBeGreaterThanOrEqual(4);
    }
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
