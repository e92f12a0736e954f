// Turning a chosen file into what the API takes, checked in the browser first so a wrong file fails at once.
import { FILE_UNREADABLE, IMAGE_MESSAGE } from "./messages.js";

const SENT_AS_IS = ["image/jpeg", "image/png", "image/webp"];
// Under the server's 10 MB image limit with room to spare; larger photos are re-encoded smaller.
const MAX_BYTES = 8 * 1024 * 1024;
const MAX_SIDE = 3000;

export class PhotoError extends Error {}

function readAsDataUrl(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(new PhotoError(FILE_UNREADABLE));
    reader.readAsDataURL(blob);
  });
}

export function canvasToJpeg(canvas, quality) {
  return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", quality));
}

export async function canvasToDataUrl(canvas, quality) {
  return readAsDataUrl(await canvasToJpeg(canvas, quality));
}

/** The photo as a data URL: the file itself when the server takes it as it is (EXIF orientation included). */
export async function photoDataUrl(file) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch {
    throw new PhotoError(IMAGE_MESSAGE);
  }
  try {
    if (file.size <= MAX_BYTES && SENT_AS_IS.includes(file.type)) return await readAsDataUrl(file);
    const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    return await canvasToDataUrl(canvas, 0.9);
  } finally {
    bitmap.close();
  }
}
