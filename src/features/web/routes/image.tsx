/** @jsxImportSource hono/jsx */
import type { Hono } from "hono";
import { isUuid } from "../../../core/lib/uuid.ts";
import { FITS } from "../../../core/pipeline/pipeline-spec.ts";
import type { AppEnv } from "../../../http/env.ts";
import { ApiError } from "../../../platform/api-error.ts";
import type { ImageRecord } from "../../images/index.ts";
import { Layout } from "../layout.tsx";
import { page, viewerEmail } from "../respond.tsx";
import { signedIn } from "../session.ts";

const ORIENTATIONS = [
  "upright",
  "mirrored",
  "upside down",
  "upside down, mirrored",
  "on its side, mirrored",
  "rotated 90° clockwise",
  "on its side, mirrored (other way)",
  "rotated 90° anticlockwise",
];

function NumberField(props: {
  name: string;
  label: string;
  min: number;
  max: number;
  step?: number;
}) {
  return (
    <div>
      <label for={`f-${props.name}`}>{props.label}</label>
      <input
        id={`f-${props.name}`}
        name={props.name}
        type="number"
        min={props.min}
        max={props.max}
        step={props.step ?? 1}
        inputmode="numeric"
      />
    </div>
  );
}

function Check(props: { name: string; label: string }) {
  return (
    <label class="inline">
      <input type="checkbox" name={props.name} /> {props.label}
    </label>
  );
}

function Editor(props: { image: ImageRecord }) {
  const { image } = props;
  return (
    <section class="panel">
      <h2>Edit</h2>
      <form id="editor" aria-describedby="preview-note">
        <fieldset>
          <legend>Resize</legend>
          <div class="fields">
            <NumberField name="width" label="Width" min={1} max={16383} />
            <NumberField name="height" label="Height" min={1} max={16383} />
            <div>
              <label for="f-fit">Fit</label>
              <select id="f-fit" name="fit">
                {FITS.map((fit) => (
                  <option value={fit} selected={fit === "inside"}>
                    {fit}
                  </option>
                ))}
              </select>
            </div>
          </div>
        </fieldset>
        <fieldset>
          <legend>Crop (pixels of the upright original)</legend>
          <div class="fields">
            <NumberField name="crop_left" label="Crop left" min={0} max={image.width - 1} />
            <NumberField name="crop_top" label="Crop top" min={0} max={image.height - 1} />
            <NumberField name="crop_width" label="Crop width" min={1} max={image.width} />
            <NumberField name="crop_height" label="Crop height" min={1} max={image.height} />
          </div>
        </fieldset>
        <fieldset>
          <legend>Turn and colour</legend>
          <div class="fields">
            <div>
              <label for="f-rotate">Rotate</label>
              <select id="f-rotate" name="rotate">
                {[0, 90, 180, 270].map((angle) => (
                  <option value={angle}>{angle}°</option>
                ))}
              </select>
            </div>
          </div>
          <Check name="flip" label="Flip (upside down)" />
          <Check name="flop" label="Flop (mirror)" />
          <Check name="grayscale" label="Grayscale" />
        </fieldset>
        <fieldset>
          <legend>Output</legend>
          <div class="fields">
            <div>
              <label for="f-format">Format</label>
              <select id="f-format" name="format">
                <option value="">as the original ({image.format})</option>
                {["jpeg", "png", "webp", "avif"].map((format) => (
                  <option value={format}>{format}</option>
                ))}
              </select>
            </div>
            <NumberField name="quality" label="Quality (1–100)" min={1} max={100} />
          </div>
        </fieldset>
        <div class="actions">
          <button type="submit" id="save">
            Save as new image
          </button>
          <span id="saved" role="status" />
        </div>
      </form>
    </section>
  );
}

function ImagePage(props: { email: string; image: ImageRecord }) {
  const { image } = props;
  const file = `/v1/images/${image.id}/file`;
  const name = image.filename ?? image.id;
  return (
    <Layout title={name} page="image" email={props.email} current="gallery">
      <div id="image" data-id={image.id}>
        <h1>{name}</h1>
        <div class="columns">
          <section class="panel">
            <h2>Original</h2>
            <img class="picture" id="original" src={file} alt={`The original of ${name}`} />
            <dl class="facts">
              <dt>Size</dt>
              <dd>
                {image.width} × {image.height} px
              </dd>
              <dt>Format</dt>
              <dd>{image.format}</dd>
              <dt>Orientation</dt>
              <dd>
                {image.orientation} ({ORIENTATIONS[image.orientation - 1]})
              </dd>
              <dt>Bytes</dt>
              <dd>{image.byte_size.toLocaleString("en")}</dd>
              <dt>Uploaded</dt>
              <dd>{new Date(image.created_at).toUTCString()}</dd>
              {image.source_id && (
                <>
                  <dt>Made from</dt>
                  <dd>
                    <a href={`/images/${image.source_id}`}>the source image</a>
                  </dd>
                </>
              )}
            </dl>
            <p>
              <a href={file} download={image.filename ?? undefined}>
                Download the original
              </a>
            </p>
          </section>
          <section class="panel">
            <h2>Preview</h2>
            <img
              class="picture"
              id="preview"
              src={`/v1/images/${image.id}/render?w=800&fit=inside`}
              alt={`Preview of the edit of ${name}`}
            />
            <p id="preview-note" class="note" role="status">
              Change a setting to see it here.
            </p>
          </section>
        </div>
        <Editor image={image} />
        <div class="columns">
          <section class="panel">
            <h2>Histogram</h2>
            <label for="space">Colour space</label>
            <select id="space">
              <option value="rgb">RGB</option>
              <option value="luma">Luma</option>
              <option value="hsv">HSV</option>
              <option value="lab">Lab</option>
            </select>
            <div class="chart" id="histogram" aria-live="polite" />
            <h2>Palette</h2>
            <div class="swatches" id="palette" />
          </section>
          <section class="panel">
            <h2>Segmentation</h2>
            <form id="segment">
              <div class="fields">
                <div>
                  <label for="s-method">Method</label>
                  <select id="s-method" name="method">
                    <option value="otsu">Otsu</option>
                    <option value="multi-otsu">Multi-Otsu</option>
                    <option value="threshold">Threshold</option>
                    <option value="adaptive">Adaptive</option>
                    <option value="region-growing">Region growing</option>
                  </select>
                </div>
                <div data-for="threshold">
                  <label for="s-threshold">Threshold (0–255)</label>
                  <input
                    id="s-threshold"
                    name="threshold"
                    type="number"
                    min="0"
                    max="255"
                    value="128"
                  />
                </div>
                <div data-for="multi-otsu">
                  <label for="s-classes">Classes (2–5)</label>
                  <input id="s-classes" name="classes" type="number" min="2" max="5" value="3" />
                </div>
                <div data-for="adaptive">
                  <label for="s-block">Block size (odd)</label>
                  <input
                    id="s-block"
                    name="blockSize"
                    type="number"
                    min="3"
                    max="255"
                    step="2"
                    value="35"
                  />
                </div>
                <div data-for="region-growing">
                  <label for="s-tolerance">Tolerance (0–200)</label>
                  <input
                    id="s-tolerance"
                    name="tolerance"
                    type="number"
                    min="0"
                    max="200"
                    value="10"
                  />
                </div>
                <div>
                  <label for="s-min-area">Smallest region (px)</label>
                  <input id="s-min-area" name="minArea" type="number" min="0" value="100" />
                </div>
              </div>
              <span data-for="threshold otsu multi-otsu adaptive">
                <Check name="invert" label="Invert" />
              </span>
              <div class="actions">
                <button type="submit">Segment</button>
                <span id="segment-message" role="status" />
              </div>
            </form>
            <div id="segmentation" hidden>
              <div class="pair">
                <figure>
                  <img id="overlay" alt="The regions outlined in colour" />
                  <figcaption class="note">Overlay</figcaption>
                </figure>
                <figure>
                  <img id="cutout" alt="The regions cut out of the rest" />
                  <figcaption class="note">Cutout</figcaption>
                </figure>
              </div>
              <p>
                <a id="mask-link" href="#segment" download="mask.png">
                  Download the mask (PNG)
                </a>
              </p>
              <table>
                <thead>
                  <tr>
                    <th>Region</th>
                    <th>Area (px)</th>
                    <th>Box (left, top · size)</th>
                    <th>Mean colour</th>
                  </tr>
                </thead>
                <tbody id="regions" />
              </table>
            </div>
          </section>
        </div>
      </div>
    </Layout>
  );
}

/** `/images/{id}`: one image, its editor, its analyses and segmentations. */
export function registerImagePage(web: Hono<AppEnv>) {
  web.get("/images/:id", signedIn(), async (c) => {
    const id = c.req.param("id");
    if (!isUuid(id)) throw new ApiError("not_found", `No image with id ${id}`);
    const image = await c.var.services.images.get(c.var.principal, id);
    return page(c, <ImagePage email={await viewerEmail(c)} image={image} />);
  });
}
