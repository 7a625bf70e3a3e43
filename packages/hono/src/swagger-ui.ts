// @bento/hono/swagger-ui: the Swagger UI files the docs page serves, for a bundle that wants the
// page (an edge worker): `toHono(service, { docs: { ui: swaggerUi } })`. Unbundled, toHono loads
// them by itself when the page is first asked for, and a bundle that does not import this module
// does not carry them (about 2 MB).
import { bundle, css, version } from './generated/swagger-ui.ts'

/** Swagger UI's stylesheet and script, and the swagger-ui-dist version they come from. */
export interface SwaggerUiAssets {
  css: string
  bundle: string
  version: string
}

/**
 * The assets, to pass as `docs: { ui: swaggerUi }`.
 * @example
 * import { swaggerUi } from '@bento/hono/swagger-ui'
 * export default toHono(service, { docs: { ui: swaggerUi } })
 */
export const swaggerUi: SwaggerUiAssets = { css, bundle, version }
