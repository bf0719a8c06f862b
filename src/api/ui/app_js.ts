export const APP_JS = String.raw`console.log("todo")`;
