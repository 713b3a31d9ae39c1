"""GET /zip: a folder with its subfolders, an album or the images picked, as one ZIP streamed as it is read."""

import io

from lenslet.albums.store import MAX_PAGE
from lenslet.errors import BadRequest
from lenslet.files.archive import archive_names, zip_stream
from lenslet.images.originals import position_patches
from lenslet.layout import name_of
from lenslet.resources.file import patched_stream
from lenslet.resources.guard import access_of, principal_of
from lenslet.resources.http import attachment
from lenslet.storage import clean_path


class ZipResource:
    """GET /zip?path=FOLDER, ?paths=A&paths=B or ?album=ID: the originals as one ZIP."""

    def __init__(self, tree, archive, albums, previews):
        self.tree, self.archive, self.albums, self.previews = tree, archive, albums, previews

    def on_get(self, req, resp):
        access, asked = access_of(req), {name: req.get_param(name) for name in ("path", "album")}
        paths, left_out = req.get_param_as_list("paths"), []
        if (paths is not None) + sum(value is not None for value in asked.values()) != 1:
            raise BadRequest("say what to download: path=a folder, paths=each image picked, or album=its id")
        if asked["album"] is not None:
            entries, title = self._album(req, access, asked["album"])
        elif paths is not None:
            entries = [(name_of(path), path, self.tree.locate_image(path)[1].size)
                       for path in (access.see(clean_path(path)) for path in paths)]
            title = "photos"
        else:
            folder = access.folder(clean_path(asked["path"]))
            (entries, left_out), title = self.archive.of_folder(access, folder), name_of(folder) or "photos"
        self.archive.check(entries)

        def open_original(name, path):
            place, stat = self.tree.locate_image(access.see(path))
            # A link without details hands out no position, as GET /file does: taken out, else the preview.
            patches = position_patches(place.storage, place.key, stat.size) if access.hides_details else []
            if patches is None:
                key, image, _, turn = self.previews.find(path)
                preview = self.previews.get(path, key, turn)
                return name + ".webp", io.BytesIO(preview), len(preview), image.mtime
            return name, patched_stream(place.storage.open(place.key), 0, patches), stat.size, stat.mtime

        resp.content_type = "application/zip"
        resp.set_header("Content-Disposition", attachment(title + ".zip"))
        resp.cache_control = ["no-store"]
        resp.stream = zip_stream(archive_names(entries), open_original, left_out)

    def _album(self, req, access, album_id):
        entries, offset, total = [], 0, 1
        while offset < total:
            view = self.albums.view(principal_of(req), access, album_id, offset, MAX_PAGE)
            entries += [(item["name"], item["path"], item.get("size") or 0) for item in view["items"]]
            offset, total = offset + MAX_PAGE, view["total"]
            self.archive.check(entries)
        return entries, view["name"]

