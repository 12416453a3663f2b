#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Which Vulkan commands, structures and device extensions carry a VkDeviceMemory.

The layer hands out its own VkDeviceMemory handles on devices that enable
VK_KMT_offer_reclaim (DESIGN.md, "Memory handles"), so every command and
structure that carries one must be translated before it goes down, and a
device extension that carries one the layer does not translate must be
refused at vkCreateDevice. "Carries" means: a parameter or member of type
VkDeviceMemory; an (object type, 64-bit object handle) pair, which can name
a VkDeviceMemory (object names, tags, private data); or a member or parameter
of a structure type that carries one, transitively.

  vk_memory_registry.py gen VK_XML
      prints layer/known_extensions.inc: the device extensions of VK_XML that
      carry no VkDeviceMemory (commit it; regenerate from a recent registry).
  vk_memory_registry.py check VK_XML LAYER_DIR [--without NAME ...]
      fails (exit 1, one line per problem) when VK_XML has a command or a
      structure that carries a VkDeviceMemory and that the layer neither
      translates (layer/memory_commands.h) nor refuses (its extension is not
      in layer/known_extensions.inc and not translated), or when a list names
      something that does not carry one. --without drops a name from the
      layer's lists first (how the test shows the check can fail).
"""
import re
import sys
import xml.etree.ElementTree as ET

OBJECT_TYPES = {"VkObjectType", "VkDebugReportObjectTypeEXT"}


def for_vulkan(element):
    api = element.get("api")
    return api is None or "vulkan" in api.split(",")


class Registry:
    def __init__(self, path):
        root = ET.parse(path).getroot()
        self.structs = {}   # name -> [(member type, member name)]
        self.aliases = {}   # alias -> name (structs and commands)
        self.extends = {}   # struct -> [structs it extends]
        for t in root.iter("type"):
            if t.get("category") not in ("struct", "union") or not for_vulkan(t):
                continue
            name = t.get("name")
            if t.get("alias"):
                self.aliases[name] = t.get("alias")
                continue
            members = []
            for m in t.findall("member"):
                if not for_vulkan(m):
                    continue
                members.append((m.findtext("type"), m.findtext("name")))
            self.structs[name] = members
            if t.get("structextends"):
                self.extends[name] = t.get("structextends").split(",")
        self.commands = {}  # name -> [(param type, param name)]
        for c in root.find("commands").findall("command"):
            if not for_vulkan(c):
                continue
            if c.get("alias"):
                self.aliases[c.get("name")] = c.get("alias")
                continue
            proto = c.find("proto")
            params = [(p.findtext("type"), p.findtext("name")) for p in c.findall("param") if for_vulkan(p)]
            self.commands[proto.findtext("name")] = params
        # Who requires what: core versions and extensions.
        self.required_by = {}  # command/type name -> set of feature/extension names
        self.device_extensions = set()
        self.extension_type = {}
        for feature in root.findall("feature"):
            if not for_vulkan(feature) and feature.get("api") != "vulkan":
                continue
            self._collect(feature, feature.get("name"))
        for ext in root.find("extensions").findall("extension"):
            supported = ext.get("supported", "").split(",")
            if "vulkan" not in supported:
                continue
            name = ext.get("name")
            self.extension_type[name] = ext.get("type")
            if ext.get("type") == "device":
                self.device_extensions.add(name)
            self._collect(ext, name)
        self._carries = {}

    def _collect(self, element, owner):
        for require in element.findall("require"):
            if not for_vulkan(require):
                continue
            for item in list(require.findall("command")) + list(require.findall("type")):
                self.required_by.setdefault(item.get("name"), set()).add(owner)

    def resolve(self, name):
        while name in self.aliases:
            name = self.aliases[name]
        return name

    def _pairs_carry(self, fields):
        types = {t for t, _ in fields}
        names = {n for _, n in fields}
        if "VkDeviceMemory" in types:
            return True
        # An object handle with its type (names, tags, private data).
        if types & OBJECT_TYPES and ({"objectHandle", "object"} & names):
            return True
        return any(self.struct_carries(t) for t in types if t in self.structs or t in self.aliases)

    def struct_carries(self, name):
        name = self.resolve(name)
        if name not in self.structs:
            return False
        if name not in self._carries:
            self._carries[name] = False  # cycles (pNext-free self references) end here
            self._carries[name] = self._pairs_carry(self.structs[name])
        return self._carries[name]

    def command_carries(self, name):
        return self._pairs_carry(self.commands[self.resolve(name)])

    def carrying_commands(self):
        return sorted(c for c in self.commands if self.command_carries(c))

    def carrying_structs(self):
        return sorted(s for s in self.structs if self.struct_carries(s))

    def owners(self, name):
        """Features/extensions requiring a command or type (or any alias of it)."""
        owners = set(self.required_by.get(name, set()))
        for alias, target in self.aliases.items():
            if self.resolve(alias) == self.resolve(name):
                owners |= self.required_by.get(alias, set())
        return owners

    def carrying_device_extensions(self):
        out = set()
        for item in self.carrying_commands() + self.carrying_structs():
            for owner in self.owners(item):
                if owner in self.device_extensions:
                    out.add(owner)
        return out


def read_layer_lists(layer_dir):
    """Names listed in layer/memory_commands.h and layer/known_extensions.inc."""
    text = open(f"{layer_dir}/memory_commands.h").read()

    def macro(name):
        body = re.search(r"#define %s\(X\)(.*?)(?:\n\n|\n#)" % name, text, re.S)
        return re.findall(r"X\(\s*\"?([A-Za-z0-9_]+)\"?", body.group(1)) if body else []

    known = re.findall(r'"([A-Za-z0-9_]+)"', open(f"{layer_dir}/known_extensions.inc").read())
    return {
        "commands": set(macro("KMT_MEMORY_COMMANDS")),
        "structs": set(macro("KMT_MEMORY_STRUCTS")),
        "extensions": set(macro("KMT_TRANSLATED_EXTENSIONS")),
        "exempt": set(macro("KMT_MEMORY_EXEMPT")),
        "known": set(known),
    }


def generate(path):
    reg = Registry(path)
    carrying = reg.carrying_device_extensions()
    clean = sorted(reg.device_extensions - carrying)
    print("/* Generated by tools/vk_memory_registry.py gen from a Vulkan registry; do not edit.")
    print(" * Device extensions that carry no VkDeviceMemory (%d of %d):" % (len(clean), len(reg.device_extensions)))
    print(" * an app may enable them beside VK_KMT_offer_reclaim without any translation. */")
    for name in clean:
        print('"%s",' % name)


def check(path, layer_dir, without=()):
    reg = Registry(path)
    lists = read_layer_lists(layer_dir)
    for name in without:
        for names in lists.values():
            names.discard(name)
    problems = []
    translated = lists["extensions"]
    handled = lists["commands"] | lists["exempt"]

    def refused(owners):
        # Only extensions the layer neither translates nor knows to be clean
        # are refused at vkCreateDevice; core versions cannot be refused.
        return owners and all(o in reg.device_extensions and o not in translated and o not in lists["known"]
                              for o in owners)

    for command in reg.carrying_commands():
        names = {command} | {a for a, t in reg.aliases.items() if reg.resolve(a) == command}
        if names & handled:
            continue
        owners = reg.owners(command)
        if not owners or refused(owners):
            continue  # not part of Vulkan (Vulkan SC only), or refused
        problems.append("command %s (required by %s) carries a VkDeviceMemory but is neither translated nor "
                        "refused" % (command, ", ".join(sorted(owners)) or "nothing"))
    for struct in reg.carrying_structs():
        names = {struct} | {a for a, t in reg.aliases.items() if reg.resolve(a) == struct}
        if names & (lists["structs"] | lists["exempt"]):
            continue
        owners = reg.owners(struct)
        if not owners or refused(owners):
            continue
        problems.append("structure %s (required by %s) carries a VkDeviceMemory but is neither translated nor "
                        "refused" % (struct, ", ".join(sorted(owners)) or "nothing"))
    # The lists must not claim what the registry contradicts.
    for name in sorted(lists["known"] & reg.carrying_device_extensions()):
        problems.append("known_extensions.inc lists %s, which carries a VkDeviceMemory" % name)
    for name in sorted(lists["commands"]):
        if reg.resolve(name) in reg.commands and not reg.command_carries(name):
            problems.append("memory_commands.h lists command %s, which carries no VkDeviceMemory" % name)
    for name in sorted(lists["structs"]):
        if reg.resolve(name) in reg.structs and not reg.struct_carries(name):
            problems.append("memory_commands.h lists structure %s, which carries no VkDeviceMemory" % name)
    for p in problems:
        print(p)
    carrying = reg.carrying_commands()
    print("%d commands and %d structures carry a VkDeviceMemory in %s; %d problem(s)"
          % (len(carrying), len(reg.carrying_structs()), path, len(problems)))
    return 1 if problems else 0


def main(argv):
    if len(argv) == 3 and argv[1] == "gen":
        generate(argv[2])
        return 0
    if len(argv) >= 4 and argv[1] == "check":
        rest = argv[4:]
        if len(rest) % 2 or any(flag != "--without" for flag in rest[0::2]):
            print(__doc__)
            return 2
        return check(argv[2], argv[3], rest[1::2])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
