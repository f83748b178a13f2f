"""Animated GLB export: the skeleton as nodes moved by keyframes, not as per-frame meshes.

Each joint is a node holding a sphere as thick as the body there, animated by translation
keyframes; each bone is a child node of its parent joint holding a tapered tube along +Y
(its radii from `body`), animated by rotation (pointing +Y at the child joint) and scale
(stretching it to the bone's length); the head and hands are capsules of their own length
on their joint's node, turned with the bone they continue. So the
file stores a few floats per joint and frame, plays in three.js (gradio's Model3D) and
Blender, and `read_glb_animation` reads the keyframes back.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pygltflib
import trimesh

from engine.motion.kinematics import UP
from engine.motion.rotations import qbetween, qfix, qrot
from engine.motion.skeleton import Skeleton
from engine.render.body import body_shape
from engine.render.inputs import prepare_joints
from engine.render.mesh import (
    SIDES,
    Geometry,
    floor,
    merge,
    trajectory,
    unit_capsule,
    unit_directions,
)
from engine.render.settings import RenderSettings, srgb
from engine.storage import atomic_write_bytes

_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963
_COMPONENT_TYPES = {
    np.dtype(np.float32): pygltflib.FLOAT,
    np.dtype(np.uint32): pygltflib.UNSIGNED_INT,
}
_TYPES = {1: pygltflib.SCALAR, 3: pygltflib.VEC3, 4: pygltflib.VEC4}
_WIDTHS = {name: width for width, name in _TYPES.items()}
_FLOOR_MARGIN = 1.0  # metres of floor around the path


def joint_node_name(skeleton: Skeleton, joint: int) -> str:
    return f"joint:{skeleton.joint_names[joint]}"


def bone_node_name(skeleton: Skeleton, parent: int, child: int) -> str:
    return f"bone:{skeleton.joint_names[parent]}-{skeleton.joint_names[child]}"


def export_glb(
    joints: np.ndarray,
    path: str | Path,
    settings: RenderSettings | None = None,
    skeleton: Skeleton | None = None,
) -> Path:
    """Write the motion (T, J, 3) as an animated GLB at `path` (atomically); returns it.

    Colours, radii, frame rate, frame step and whether a floor and the trajectory are
    included come from `settings`.
    """
    settings = settings or RenderSettings()
    joints, skeleton = prepare_joints(joints, skeleton)
    joints = joints[:: settings.frame_step].astype(np.float64)
    builder = _Builder()
    root = builder.node(pygltflib.Node(name="motion"))
    times = np.arange(len(joints), dtype=np.float32) / np.float32(settings.video_fps)
    time_accessor = builder.accessor(times, with_bounds=True)
    materials = {side: builder.material(settings.side_colour(side)) for side in SIDES}
    shape = body_shape(skeleton, settings.body_thickness)
    sphere = trimesh.creation.icosphere(subdivisions=2)
    point_radii = shape.point_radii()
    meshes: dict[tuple, int] = {}  # one mesh per (shape, size, side), shared by nodes

    def mesh_of(key: tuple, make: Callable[[], Geometry], side: str | None) -> int:
        if (key, side) not in meshes:
            meshes[key, side] = builder.mesh(make(), materials[side])
        return meshes[key, side]

    joint_nodes = []
    for j in range(skeleton.num_joints):
        radius = float(point_radii[j])
        mesh = mesh_of(
            ("sphere", radius),
            functools.partial(_sphere_geometry, sphere, radius),
            skeleton.side_of(j),
        )
        node = builder.node(
            pygltflib.Node(name=joint_node_name(skeleton, j), mesh=mesh), parent=root
        )
        builder.animate(node, "translation", time_accessor, joints[:, j])
        joint_nodes.append(node)
    points = shape.points(joints)
    for limb, (start, end) in enumerate(zip(shape.starts, shape.ends, strict=True)):
        radii = (float(shape.start_radii[limb]), float(shape.end_radii[limb]))
        direction, length = unit_directions(points[:, end] - points[:, start])
        if end < skeleton.num_joints:  # a bone: a tube stretched to the bone's length
            make = functools.partial(_unit_tube, settings.capsule_segments, *radii)
            name, scale, key = bone_node_name(skeleton, start, end), length, ("tube", *radii)
        else:  # the head or a hand: a capsule of its own length, turned with its bone
            reach = float(shape.extension_lengths[end - skeleton.num_joints])
            make = functools.partial(_capsule_along_y, settings.capsule_segments, *radii, reach)
            name, scale = f"extension:{skeleton.joint_names[start]}", None
            key = ("capsule", *radii, reach)
        mesh = mesh_of(key, make, shape.sides[limb])
        node = builder.node(pygltflib.Node(name=name, mesh=mesh), parent=joint_nodes[start])
        builder.animate(node, "rotation", time_accessor, rotations_from_up(direction))
        if scale is not None:
            stretch = np.column_stack([np.ones_like(scale), scale, np.ones_like(scale)])
            builder.animate(node, "scale", time_accessor, stretch)

    scenery = _scenery(joints, settings)
    if scenery is not None:
        mesh = builder.mesh(scenery, builder.material("#ffffff"), vertex_colours=True)
        builder.node(pygltflib.Node(name="floor", mesh=mesh), parent=root)
    return atomic_write_bytes(path, builder.glb())


def rotations_from_up(direction: np.ndarray) -> np.ndarray:
    """glTF rotations (T, 4) as x, y, z, w turning +Y onto each unit `direction` (T, 3),
    with signs kept continuous so that interpolation takes the short way."""
    return np.roll(qfix(qbetween(UP, direction)), -1, axis=-1)


@dataclass
class GlbAnimation:
    """Keyframes read back from a GLB: times and, per (node name, path), the values."""

    times: np.ndarray
    channels: dict[tuple[str, str], np.ndarray]

    def joint_positions(self, skeleton: Skeleton) -> np.ndarray:
        """(T, J, 3) joint positions from the joints' translation keyframes."""
        return np.stack(
            [
                self.channels[(joint_node_name(skeleton, j), "translation")]
                for j in range(skeleton.num_joints)
            ],
            axis=1,
        )

    def bone_ends(self, skeleton: Skeleton) -> np.ndarray:
        """(T, B, 3) where each bone's cylinder ends: its parent joint + R(q) S (0, 1, 0)."""
        joints = self.joint_positions(skeleton)
        ends = []
        for parent, child in skeleton.bones:
            name = bone_node_name(skeleton, parent, child)
            tip = self.channels[(name, "scale")] * UP
            rotation = np.roll(self.channels[(name, "rotation")], 1, axis=-1)  # to w, x, y, z
            ends.append(joints[:, parent] + qrot(rotation, tip))
        return np.stack(ends, axis=1)


def read_glb_animation(path: str | Path) -> GlbAnimation:
    """Read a GLB's first animation back: the check that an exported file plays right."""
    gltf = pygltflib.GLTF2().load(str(path))
    blob = gltf.binary_blob()
    animation = gltf.animations[0]
    channels, times = {}, None
    for channel in animation.channels:
        sampler = animation.samplers[channel.sampler]
        times = _read_accessor(gltf, blob, sampler.input)
        name = gltf.nodes[channel.target.node].name
        channels[(name, channel.target.path)] = _read_accessor(gltf, blob, sampler.output)
    return GlbAnimation(times, channels)


def _read_accessor(gltf: pygltflib.GLTF2, blob: bytes, index: int) -> np.ndarray:
    accessor = gltf.accessors[index]
    view = gltf.bufferViews[accessor.bufferView]
    width = _WIDTHS[accessor.type]
    start = (view.byteOffset or 0) + (accessor.byteOffset or 0)
    values = np.frombuffer(blob, np.float32, accessor.count * width, start)
    return values.reshape(accessor.count, width).squeeze(axis=1 if width == 1 else None)


def _scenery(joints: np.ndarray, settings: RenderSettings) -> Geometry | None:
    path_xz = joints[:, 0, [0, 2]]
    parts = []
    if settings.show_floor:
        parts.append(floor(path_xz, _FLOOR_MARGIN, None, settings))
    if settings.show_trajectory:
        parts.append(trajectory(path_xz, settings))
    parts = [p for p in parts if not p.is_empty]
    return merge(*parts) if parts else None


def _sphere_geometry(sphere: trimesh.Trimesh, radius: float) -> Geometry:
    unit = np.asarray(sphere.vertices, dtype=np.float32)
    return Geometry(unit * radius, unit, np.ones((len(unit), 4), np.float32), sphere.faces)


def _unit_tube(segments: int, start_radius: float, end_radius: float) -> Geometry:
    """An open tube from y = 0 (`start_radius`) to y = 1 (`end_radius`); the joint spheres
    close its ends, and a node's scale stretches it to its bone's length."""
    around = np.linspace(0.0, 2 * np.pi, segments, endpoint=False)
    ring = np.column_stack([np.cos(around), np.zeros(segments), -np.sin(around)])
    positions = np.concatenate([ring * start_radius, ring * end_radius + [0.0, 1.0, 0.0]])
    i = np.arange(segments)
    j = (i + 1) % segments
    faces = np.concatenate(
        [np.column_stack([i, j, j + segments]), np.column_stack([i, j + segments, i + segments])]
    )
    normals = np.concatenate([ring, ring])
    return Geometry(
        positions.astype(np.float32),
        normals.astype(np.float32),
        np.ones((2 * segments, 4), np.float32),
        faces,
    )


def _capsule_along_y(
    segments: int, start_radius: float, end_radius: float, length: float
) -> Geometry:
    """A closed tapered capsule from the origin to `length` along +Y."""
    end, offset, faces = unit_capsule(segments)
    z_to_y = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])  # a rotation
    offset = offset @ z_to_y.T
    radius = start_radius * (1 - end) + end_radius * end
    positions = end[:, None] * [0.0, length, 0.0] + radius[:, None] * offset
    return Geometry(
        positions.astype(np.float32),
        offset.astype(np.float32),
        np.ones((len(positions), 4), np.float32),
        faces,
    )


@dataclass
class _Builder:
    """Accumulates glTF objects and one binary buffer."""

    gltf: pygltflib.GLTF2 = field(
        default_factory=lambda: pygltflib.GLTF2(
            asset=pygltflib.Asset(generator="motion-retrieval engine.render"),
            scene=0,
            scenes=[pygltflib.Scene(nodes=[])],
            animations=[pygltflib.Animation(name="motion", channels=[], samplers=[])],
        )
    )
    blob: bytearray = field(default_factory=bytearray)

    def accessor(
        self, array: np.ndarray, target: int | None = None, with_bounds: bool = False
    ) -> int:
        """Append float32 or uint32 data (N,) or (N, C) as an accessor; its index."""
        data = np.ascontiguousarray(array)
        self.blob.extend(b"\0" * (-len(self.blob) % 4))
        view = pygltflib.BufferView(
            buffer=0, byteOffset=len(self.blob), byteLength=data.nbytes, target=target
        )
        self.blob.extend(data.tobytes())
        self.gltf.bufferViews.append(view)
        columns = data.reshape(len(data), -1)
        accessor = pygltflib.Accessor(
            bufferView=len(self.gltf.bufferViews) - 1,
            componentType=_COMPONENT_TYPES[data.dtype],
            count=len(data),
            type=_TYPES[columns.shape[1]],
        )
        if with_bounds:
            accessor.min = columns.min(axis=0).tolist()
            accessor.max = columns.max(axis=0).tolist()
        self.gltf.accessors.append(accessor)
        return len(self.gltf.accessors) - 1

    def material(self, colour: str) -> int:
        linear = [c**2.2 for c in srgb(colour)]
        self.gltf.materials.append(
            pygltflib.Material(
                pbrMetallicRoughness=pygltflib.PbrMetallicRoughness(
                    baseColorFactor=[*linear, 1.0], metallicFactor=0.0, roughnessFactor=0.6
                )
            )
        )
        return len(self.gltf.materials) - 1

    def mesh(self, geometry: Geometry, material: int, vertex_colours: bool = False) -> int:
        attributes = pygltflib.Attributes(
            POSITION=self.accessor(geometry.positions.astype(np.float32), _ARRAY_BUFFER, True),
            NORMAL=self.accessor(geometry.normals.astype(np.float32), _ARRAY_BUFFER),
        )
        if vertex_colours:
            linear = np.column_stack([geometry.colours[:, :3] ** 2.2, geometry.colours[:, 3]])
            attributes.COLOR_0 = self.accessor(linear.astype(np.float32), _ARRAY_BUFFER)
        indices = self.accessor(
            np.asarray(geometry.faces, np.uint32).ravel(), _ELEMENT_ARRAY_BUFFER
        )
        primitive = pygltflib.Primitive(attributes=attributes, indices=indices, material=material)
        self.gltf.meshes.append(pygltflib.Mesh(primitives=[primitive]))
        return len(self.gltf.meshes) - 1

    def node(self, node: pygltflib.Node, parent: int | None = None) -> int:
        self.gltf.nodes.append(node)
        index = len(self.gltf.nodes) - 1
        if parent is None:
            self.gltf.scenes[0].nodes.append(index)
        else:
            self.gltf.nodes[parent].children.append(index)
        return index

    def animate(self, node: int, path: str, times: int, values: np.ndarray) -> None:
        """Keyframes for a node's `path` ('translation', 'rotation' or 'scale'); the node
        also holds the first one, for viewers that show the file without playing it."""
        setattr(self.gltf.nodes[node], path, values[0].tolist())
        animation = self.gltf.animations[0]
        animation.samplers.append(
            pygltflib.AnimationSampler(
                input=times, output=self.accessor(values.astype(np.float32)), interpolation="LINEAR"
            )
        )
        target = pygltflib.AnimationChannelTarget(node=node, path=path)
        animation.channels.append(
            pygltflib.AnimationChannel(sampler=len(animation.samplers) - 1, target=target)
        )

    def glb(self) -> bytes:
        self.gltf.buffers = [pygltflib.Buffer(byteLength=len(self.blob))]
        self.gltf.set_binary_blob(bytes(self.blob))
        return b"".join(self.gltf.save_to_bytes())
