"""The people the library shows: each name with how many photos a person may see and the newest for a cover."""

from lenslet.formats import query as rules
from lenslet.recent import Recent

KEPT_ROLLUPS = 2


class Faces:
    """People counted from the rollup's items, read once per rollup; edits since then counted as they are now."""

    def __init__(self, timeline):
        self.timeline = timeline
        self.named_kept = Recent(KEPT_ROLLUPS)  # rollup stat -> {folded name: (name, ids)}

    def named(self, loaded):
        """Return {folded name: (name, item ids)} of every person a rollup's items show."""
        found = self.named_kept.get(loaded.stat)
        if found is None:
            people, found = loaded.index.people, {}
            for t in range(len(people)):  # named as the first photo showing them spells it
                ids = list(people.ids([t]))
                found[people.text(t)] = (spelled(loaded.item(ids[0]), people.text(t)), ids)
            self.named_kept.put(loaded.stat, found)
        return found

    def visible(self, folders, sees):
        """Return (loaded, columns, edited, {folded name: (name, ids of the photos one may see)})."""
        loaded, columns, marks, edited = self.timeline.chosen(folders, rules.Query(), sees)
        named = dict(self.named(loaded))
        if edited:
            named = {key: (name, [at for at in ids if at not in edited]) for key, (name, ids) in named.items()}
            for at, item in sorted(edited.items()):
                add_people(named, at, item or {})
        return loaded, columns, edited, {key: (name, ids if marks is None else [at for at in ids if marks[at]])
                                         for key, (name, ids) in named.items()}

    def photos(self, name, folders, sees=None):
        """Return the paths of the photos one may see that show a person, as every edit noted so far left them."""
        self.timeline.searcher.catch_up()
        loaded, _, edited, named = self.visible(folders, sees)
        ids = named.get(rules.fold(name), ("", []))[1]
        return [(edited.get(at) or loaded.item(at)).get("path") for at in sorted(ids)]

    def people(self, folders, sees=None):
        """Return each person the visible photos show: name, count, cover (the newest photo's path and box)."""
        loaded, columns, edited, named = self.visible(folders, sees)
        found = []
        for key, (name, seen) in named.items():
            if seen:
                newest = max(seen, key=columns.date.__getitem__)
                item = edited.get(newest) or loaded.item(newest)
                box = next((person.get("box") for person in item.get("people", ())
                            if rules.fold(person.get("name")) == key), None)
                found.append({"name": name, "count": len(seen),
                              "cover": {"path": item.get("path"), **({"box": box} if box else {})}})
        found.sort(key=lambda person: (-person["count"], rules.name_key(person["name"])))
        return found


def add_people(named, item_id, item):
    """Add an item's people to named, by folded name."""
    for key in sorted(rules.people_of(item)):
        if key:
            named.setdefault(key, (spelled(item, key), []))[1].append(item_id)


def spelled(item, key):
    """Return how an item spells the person whose folded name is key."""
    return next(person["name"] for person in item["people"]
                if isinstance(person, dict) and rules.fold(person.get("name")) == key)
