import { AREAS, VARIABLES } from "./config.ts";

/** Where `npm run docs:config` writes the tables; test/unit/config.test.ts checks them. */
export const CONFIGURATION_DOC = new URL("../../docs/configuration.md", import.meta.url);

// A `|` inside a cell would end it.
const cell = (text: string) => text.replaceAll("|", "\\|");

/** A Markdown table padded as Biome formats one, so `npm run format` leaves the file as it is. */
function table(header: string[], rows: string[][]): string {
  const length = (text: string) => [...text].length;
  const widths = header.map((title, i) =>
    Math.max(length(title), ...rows.map((row) => length(row[i] ?? ""))),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((text, i) => text + " ".repeat((widths[i] ?? 0) - length(text))).join(" | ")} |`;
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join(
    "\n",
  );
}

/**
 * docs/configuration.md, from the variables' own documentation in src/config/config.ts: one table per
 * area, in the settings' order.
 *
 * @example
 * await Bun.write(CONFIGURATION_DOC, renderConfigurationDoc());
 */
export function renderConfigurationDoc(): string {
  const sections = Object.entries(AREAS).map(([area, title]) => {
    const rows = VARIABLES.filter((v) => v.doc.area === area).map(({ doc }) =>
      [`\`${doc.env}\``, doc.shownDefault, doc.allowed, doc.description].map(cell),
    );
    return `## ${title}\n\n${table(["Variable", "Default", "Allowed", "Meaning"], rows)}`;
  });
  return `<!-- Generated from src/config/config.ts by \`npm run docs:config\`: edit the settings there, not this file. -->

# Configuration

Pictor reads everything from the environment and validates it at start: a bad value stops the
process with a message naming the variable, what it allows and what it received (secrets are
never echoed). An empty value means "unset". With Docker the variables are in \`.env.docker\`;
on the edge they are Worker vars and secrets (see [edge.md](edge.md)).

${sections.join("\n\n")}
`;
}

if (import.meta.main) {
  await Bun.write(CONFIGURATION_DOC, renderConfigurationDoc());
  console.log(`wrote ${CONFIGURATION_DOC.pathname}`);
}
