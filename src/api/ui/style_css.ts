export const STYLE_CSS = ``;
