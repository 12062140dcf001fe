/** @jsxImportSource hono/jsx */
import type { Hono } from "hono";
import { isUuid } from "../../../core/lib/uuid.ts";
import type { AppEnv } from "../../../http/env.ts";
import type { ImageRecord } from "../../images/index.ts";
import { Layout } from "../layout.tsx";
import { page, viewerEmail } from "../respond.tsx";
import { signedIn } from "../session.ts";

const PAGE_SIZE = 48;

/** What the gallery offers to run over the chosen images: a label and the job's task. */
export const JOB_TASKS: readonly { label: string; task: unknown }[] = [
  {
    label: "Thumbnails (256 px, JPEG)",
    task: {
      transform: {
        operations: [{ op: "resize", width: 256, height: 256, fit: "inside" }],
        format: "jpeg",
      },
    },
  },
  { label: "Grayscale copies", task: { transform: { operations: [{ op: "grayscale" }] } } },
  { label: "Histograms (RGB, 64 bins)", task: { histogram: { space: "rgb", bins: 64 } } },
  { label: "Segmentation (Otsu)", task: { segmentation: { method: "otsu" } } },
];

/** A square thumbnail through the render URL (the cookie authenticates it), made once and cached. */
export const thumbnailUrl = (id: string) =>
  `/v1/images/${id}/render?w=320&h=320&fit=cover&format=jpeg&q=80`;

function Card(props: { image: ImageRecord }) {
  const { image } = props;
  const name = image.filename ?? `${image.format} ${image.width}×${image.height}`;
  return (
    <li class="card">
      <a href={`/images/${image.id}`}>
        <img
          src={thumbnailUrl(image.id)}
          alt={name}
          loading="lazy"
          decoding="async"
          width="320"
          height="320"
        />
      </a>
      <div class="meta">
        <input
          type="checkbox"
          name="image"
          value={image.id}
          form="job-form"
          id={`pick-${image.id}`}
          aria-label={`Choose ${name} for a job`}
        />
        <label class="name" for={`pick-${image.id}`} title={name}>
          {name}
        </label>
        <button type="button" class="danger" data-delete={image.id} data-name={name}>
          Delete
        </button>
      </div>
    </li>
  );
}

function GalleryPage(props: {
  email: string;
  images: ImageRecord[];
  next: string | null;
  paged: boolean;
}) {
  return (
    <Layout title="Gallery" page="gallery" email={props.email} current="gallery">
      <section class="panel">
        <h1>Your images</h1>
        <div class="drop" id="drop-zone">
          <p>Drop photos here (JPEG, PNG, WebP, AVIF), or</p>
          <label for="upload-input">Choose files to upload</label>
          <input id="upload-input" type="file" multiple accept="image/*" />
        </div>
        <ul class="uploads" id="uploads" aria-live="polite" />
      </section>
      <section class="panel">
        <form id="job-form" class="toolbar" aria-describedby="job-message">
          <div>
            <label for="task">Run a job over the chosen images</label>
            <select id="task" name="task">
              {JOB_TASKS.map((t) => (
                <option value={JSON.stringify(t.task)}>{t.label}</option>
              ))}
            </select>
          </div>
          <button type="submit">Start job</button>
          <p id="job-message" hidden />
        </form>
      </section>
      <section id="gallery" aria-label="Images">
        {props.images.length === 0 ? (
          <p class="empty">No images yet: upload some above.</p>
        ) : (
          <ul class="grid">
            {props.images.map((image) => (
              <Card image={image} />
            ))}
          </ul>
        )}
        <nav class="pager" aria-label="Pages">
          {props.paged ? <a href="/">Newest</a> : <span />}
          {props.next && <a href={`/?cursor=${props.next}`}>Older images</a>}
        </nav>
      </section>
    </Layout>
  );
}

/** `/`: the signed-in user's images, newest first, a page at a time; upload and jobs. */
export function registerGallery(web: Hono<AppEnv>) {
  web.get("/", signedIn(), async (c) => {
    const cursor = c.req.query("cursor");
    const paged = cursor !== undefined && isUuid(cursor);
    const images = await c.var.services.images.list(c.var.principal, {
      limit: PAGE_SIZE,
      cursor: paged ? cursor : undefined,
    });
    const email = await viewerEmail(c);
    return page(
      c,
      <GalleryPage email={email} images={images.items} next={images.next_cursor} paged={paged} />,
    );
  });
}
