"""Geometry: a skeleton pose as one merged mesh, its shadow, the floor and the trajectory.

The unit capsule is built once per skeleton and settings; each frame only moves its
copies' vertices with numpy (one tapered capsule per limb of the body, see `body`), so
no mesh is rebuilt per frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh

from engine.motion.kinematics import UP
from engine.motion.skeleton import Skeleton
from engine.render.body import BodyShape, body_shape
from engine.render.settings import RenderSettings, srgb

_SHADOW_HEIGHT = 0.003  # metres above the floor: above the tiles, below the trajectory
_TRAJECTORY_HEIGHT = 0.006
SIDES = ("left", "right", None)  # what Skeleton.side_of answers


@dataclass(frozen=True)
class Geometry:
    """Triangles with per-vertex normals and RGBA surface colours in 0..1 (sRGB)."""

    positions: np.ndarray  # (V, 3)
    normals: np.ndarray  # (V, 3)
    colours: np.ndarray  # (V, 4)
    faces: np.ndarray  # (F, 3)

    @property
    def is_empty(self) -> bool:
        return len(self.faces) == 0

    def to_trimesh(self) -> trimesh.Trimesh:
        return trimesh.Trimesh(
            self.positions,
            self.faces,
            vertex_normals=self.normals,
            vertex_colors=(self.colours * 255).astype(np.uint8),
            process=False,
        )


def merge(*parts: Geometry) -> Geometry:
    """One Geometry holding all parts (face indices shifted)."""
    starts = np.cumsum([0] + [len(p.positions) for p in parts[:-1]])
    return Geometry(
        np.concatenate([p.positions for p in parts]).astype(np.float32),
        np.concatenate([p.normals for p in parts]).astype(np.float32),
        np.concatenate([p.colours for p in parts]).astype(np.float32),
        np.concatenate([p.faces + s for p, s in zip(parts, starts, strict=True)]).astype(np.uint32),
    )


def rgba(colour: str, count: int) -> np.ndarray:
    """`count` copies of a hex colour as RGBA rows."""
    return np.tile(np.array([*srgb(colour), 1.0], dtype=np.float32), (count, 1))


def repeat_faces(faces: np.ndarray, vertices_each: int, copies: int) -> np.ndarray:
    """`copies` copies of a shape's faces, copy i indexing vertices from i * vertices_each."""
    starts = np.arange(copies)[:, None, None] * vertices_each
    return (np.asarray(faces)[None] + starts).reshape(-1, 3)


def _grid_faces(rows: int, columns: int) -> np.ndarray:
    """Triangles joining a (rows, columns) grid of vertices whose columns wrap around."""
    r, c = np.meshgrid(np.arange(rows - 1), np.arange(columns), indexing="ij")
    a = r * columns + c
    b = r * columns + (c + 1) % columns
    quads = np.stack([a, b, b + columns, a + columns], axis=-1).reshape(-1, 4)
    return np.concatenate([quads[:, [0, 1, 2]], quads[:, [0, 2, 3]]])


def unit_capsule(segments: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A capsule of radius 1 around the local +Z axis from end 0 to end 1.

    Returns (end, offset, faces): vertex i sits at `end[i]` (0 or 1) along the bone plus
    radius times the unit `offset[i]`, which is also its normal. Any bone length then
    gives an exact capsule without stretching the round caps.
    """
    cap_rings = max(2, segments // 4)
    polar = np.concatenate(
        [np.linspace(np.pi, np.pi / 2, cap_rings + 1), np.linspace(np.pi / 2, 0.0, cap_rings + 1)]
    )
    end = np.repeat(np.r_[np.zeros(cap_rings + 1), np.ones(cap_rings + 1)], segments)
    around = np.linspace(0.0, 2 * np.pi, segments, endpoint=False)
    p, a = np.meshgrid(polar, around, indexing="ij")
    offset = np.stack([np.sin(p) * np.cos(a), np.sin(p) * np.sin(a), np.cos(p)], -1)
    return end, offset.reshape(-1, 3), _grid_faces(len(polar), segments)


def bone_frames(direction: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotations whose third column is each unit `direction`."""
    helper = np.where(
        (np.abs(direction[..., :1]) < 0.9), np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    )
    u = np.cross(helper, direction)
    u /= np.linalg.norm(u, axis=-1, keepdims=True)
    v = np.cross(direction, u)
    return np.stack([u, v, direction], axis=-1)


def unit_directions(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(unit directions, lengths) of (..., 3) vectors; a zero vector points up."""
    lengths = np.linalg.norm(vectors, axis=-1)
    safe = np.where(lengths[..., None] > 1e-9, vectors, UP)
    return safe / np.linalg.norm(safe, axis=-1, keepdims=True), lengths


class SkeletonMesh:
    """Builds the body of one skeleton, pose after pose, from precomputed unit geometry:
    one tapered capsule per limb of its `BodyShape`, coloured by side."""

    def __init__(self, skeleton: Skeleton, settings: RenderSettings) -> None:
        self.shape = body_shape(skeleton, settings.body_thickness)
        end, self._offset, capsule_faces = unit_capsule(settings.capsule_segments)
        shape, vertices = self.shape, len(self._offset)
        # per limb and vertex: the fraction along the limb and the radius there
        self._end = end.astype(np.float32)
        self._radius = (
            shape.start_radii[:, None] * (1 - end[None]) + shape.end_radii[:, None] * end[None]
        ).astype(np.float32)[..., None]
        colours = {side: rgba(settings.side_colour(side), 1)[0] for side in SIDES}
        self._colours = np.repeat([colours[side] for side in shape.sides], vertices, axis=0)
        self._faces = repeat_faces(capsule_faces, vertices, len(shape.starts)).astype(np.uint32)
        self._shadow = _ShadowShape(shape, settings)

    def points(self, pose: np.ndarray) -> np.ndarray:
        """The pose's (J, 3) joints followed by the tips of the head and hands: what `body`
        and `shadow` are drawn around (computed once per frame for both)."""
        return self.shape.points(pose)

    def body(self, points: np.ndarray) -> Geometry:
        """The merged limbs around `points` (from `points(pose)`)."""
        start = points[self.shape.starts]
        direction, length = unit_directions(points[self.shape.ends] - start)
        rotated = np.einsum("bij,vj->bvi", bone_frames(direction), self._offset)
        along = self._end[None, :, None] * (length[:, None, None] * direction[:, None, :])
        positions = start[:, None, :] + along + self._radius * rotated
        return Geometry(
            positions.reshape(-1, 3).astype(np.float32),
            rotated.reshape(-1, 3).astype(np.float32),
            self._colours,
            self._faces,
        )

    def shadow(self, points: np.ndarray) -> Geometry:
        """The shadow around `points` under light from straight above: on the floor, a
        band per limb and a disc per point (a few hundred triangles, where flattening the
        body would cost as many as the body itself)."""
        return self._shadow.at(points[:, [0, 2]])


class _ShadowShape:
    """Unit pieces of the shadow: a tapered quad per limb, a disc (triangle fan) per point
    as wide as the thickest limb end there."""

    SEGMENTS = 10

    def __init__(self, shape: BodyShape, settings: RenderSettings) -> None:
        self.starts, self.ends = shape.starts, shape.ends
        self._widths = np.stack([shape.start_radii, shape.end_radii], axis=1)[..., None]
        n_points, point_radii = shape.point_count, shape.point_radii()
        angles = np.linspace(0.0, 2 * np.pi, self.SEGMENTS, endpoint=False)
        circle = np.column_stack([np.cos(angles), np.sin(angles)])
        self._disc = np.vstack([[0.0, 0.0], circle])[None] * point_radii[:, None, None]
        ring = np.arange(self.SEGMENTS)
        fan = np.column_stack([0 * ring, 1 + ring, 1 + (ring + 1) % self.SEGMENTS])
        n_limbs, disc_size = len(self.starts), self.SEGMENTS + 1
        faces = np.concatenate(
            [
                repeat_faces([[0, 1, 2], [0, 2, 3]], 4, n_limbs),
                repeat_faces(fan, disc_size, n_points) + n_limbs * 4,
            ]
        )
        # Each piece's winding does not depend on the pose (a band's sides turn with its
        # limb), so the faces are turned to face up once, on points laid out in a row.
        row = np.column_stack([np.arange(n_points, dtype=float), np.zeros(n_points)])
        self._faces = _facing_up(self._outline(row), faces)
        self._colours = rgba(settings.shadow_colour, n_limbs * 4 + n_points * disc_size)

    def at(self, xz: np.ndarray) -> Geometry:
        """The shadow of body points whose floor positions are `xz` (P, 2)."""
        return _flat(self._outline(xz), _SHADOW_HEIGHT, self._colours, self._faces)

    def _outline(self, xz: np.ndarray) -> np.ndarray:
        """The (x, z) vertices of the bands and discs for points at `xz` (P, 2)."""
        start, end = xz[self.starts], xz[self.ends]
        along = end - start
        length = np.linalg.norm(along, axis=1, keepdims=True)
        along = np.where(length > 1e-9, along / np.maximum(length, 1e-9), [1.0, 0.0])
        side = np.column_stack([-along[:, 1], along[:, 0]])[:, None, :] * self._widths
        ends = np.stack([start, end], axis=1)
        quads = np.concatenate([ends + side, (ends - side)[:, ::-1]], axis=1)
        discs = xz[:, None, :] + self._disc
        return np.concatenate([quads.reshape(-1, 2), discs.reshape(-1, 2)])


def floor(
    path_xz: np.ndarray,
    reach: float,
    fade: tuple[float, float] | None,
    settings: RenderSettings,
) -> Geometry:
    """Checkerboard tiles within `reach` metres of the path's bounding box.

    With `fade`, a tile corner's colour blends to the background between `fade[0]` and
    `fade[1]` metres from the nearest path point, so the floor has no hard edge; tiles
    faded out entirely are left out (the background shows there anyway), which saves
    the rasteriser most of the picture.
    """
    tile = settings.floor_tile
    low = np.floor((path_xz.min(axis=0) - reach) / tile).astype(int)
    high = np.ceil((path_xz.max(axis=0) + reach) / tile).astype(int)
    i, k = np.meshgrid(np.arange(low[0], high[0]), np.arange(low[1], high[1]), indexing="ij")
    i, k = i.ravel(), k.ravel()
    corners = np.array([[0, 0], [1, 0], [1, 1], [0, 1]])
    xz = (np.stack([i, k], -1)[:, None, :] + corners[None]) * tile  # (tiles, 4, 2)
    tiles = np.stack([rgba(c, 1)[0] for c in settings.floor_colours])[(i + k) % 2]
    colours = np.repeat(tiles[:, None, :], 4, axis=1)
    if fade is not None:
        distance = _distance_to_path(xz.reshape(-1, 2), path_xz).reshape(-1, 4)
        blend = np.clip((distance - fade[0]) / (fade[1] - fade[0]), 0.0, 1.0)
        blend = (blend * blend * (3 - 2 * blend))[..., None]
        colours = (1 - blend) * colours + blend * rgba(settings.background_colour, 1)
        visible = blend.min(axis=(1, 2)) < 1.0
        xz, colours = xz[visible], colours[visible]
    faces = repeat_faces([[0, 2, 1], [0, 3, 2]], 4, len(xz))
    return _flat(xz.reshape(-1, 2), 0.0, colours.reshape(-1, 4), faces)


def trajectory(path_xz: np.ndarray, settings: RenderSettings) -> Geometry:
    """The root's path on the floor as a ribbon `trajectory_width` wide (maybe empty)."""
    half = settings.trajectory_width / 2
    points = _thin_path(path_xz, spacing=half)
    if len(points) < 2:
        return _flat(np.zeros((0, 2)), 0.0, np.zeros((0, 4)), np.zeros((0, 3), int))
    tangent = _tangents(points)
    side = np.stack([-tangent[:, 1], tangent[:, 0]], -1) * half
    xz = np.stack([points - side, points + side], axis=1).reshape(-1, 2)
    a = np.arange(len(points) - 1)[:, None] * 2
    faces = np.concatenate([a + [0, 1, 3], a + [0, 3, 2]])
    faces = _facing_up(xz, faces)
    colours = rgba(settings.trajectory_colour, len(xz))
    return _flat(xz, _TRAJECTORY_HEIGHT, colours, faces)


def _flat(xz: np.ndarray, height: float, colours: np.ndarray, faces: np.ndarray) -> Geometry:
    positions = np.column_stack([xz[:, 0], np.full(len(xz), height), xz[:, 1]])
    normals = np.tile(UP, (len(xz), 1))
    return Geometry(
        positions.astype(np.float32),
        normals.astype(np.float32),
        np.asarray(colours, dtype=np.float32),
        np.asarray(faces, dtype=np.uint32).reshape(-1, 3),
    )


def _facing_up(xz: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Reorder each triangle so its front (counter-clockwise) side faces +Y."""
    a, b, c = (xz[faces[:, n]] for n in range(3))
    # +Y normal <=> (b - a) x (c - a) has positive y, i.e. negative 2D cross in (x, z)
    cross = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    return np.where((cross > 0)[:, None], faces[:, [0, 2, 1]], faces)


def _tangents(points: np.ndarray) -> np.ndarray:
    """Unit directions of a polyline at its points: the mean of the segments meeting there,
    or the outgoing one where the path turns straight back."""
    segments = np.diff(points, axis=0)
    segments /= np.linalg.norm(segments, axis=1, keepdims=True)
    outgoing = np.vstack([segments, segments[-1:]])
    summed = outgoing + np.vstack([segments[:1], segments])
    norms = np.linalg.norm(summed, axis=1, keepdims=True)
    return np.where(norms > 1e-6, summed / np.maximum(norms, 1e-6), outgoing)


def _thin_path(path_xz: np.ndarray, spacing: float) -> np.ndarray:
    """The path's points with neighbours closer than `spacing` dropped."""
    kept = [path_xz[0]]
    for point in path_xz[1:]:
        if np.linalg.norm(point - kept[-1]) >= spacing:
            kept.append(point)
    return np.array(kept)


def _distance_to_path(points: np.ndarray, path_xz: np.ndarray) -> np.ndarray:
    step = max(1, len(path_xz) // 64)  # the path's shape, sampled finely enough for a fade
    samples = path_xz[::step]
    return np.min(np.linalg.norm(points[:, None, :] - samples[None], axis=-1), axis=1)
