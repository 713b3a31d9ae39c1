// Gallery paths as the page names them ("2024/summer/beach.jpg", "" for the top folder): pure.

/** The last part of a path; the top folder is "All photos". */
export const nameOf = (path) => path.split("/").pop() || "All photos";

export const folderOf = (path) => path.split("/").slice(0, -1).join("/");

export const joined = (folder, name) => (folder ? `${folder}/${name}` : name);

/** What a person typed as a path, without the slashes before and after it. */
export const trimmed = (typed) => typed.replace(/^\/+|\/+$/g, "");
