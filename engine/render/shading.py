"""Lighting, computed per vertex with numpy.

The GPU-less rasteriser (Mesa llvmpipe) spends most of a frame in the renderer's
physically based fragment shader. Shading the few thousand body vertices here instead
and drawing every surface with the flat (unlit) shader makes a frame about 3x cheaper,
and on a body this finely tessellated the Gouraud-shaded result looks the same.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from engine.render.mesh import Geometry
from engine.render.settings import RenderSettings

GAMMA = 2.2
_KEY_TURN, _KEY_RISE = np.radians(-40.0), np.radians(50.0)  # from the view direction
_FILL_TURN, _FILL_RISE = np.radians(70.0), np.radians(15.0)


@dataclass(frozen=True)
class Lighting:
    """Directional lights (unit vectors towards them) and a sky/ground ambient light."""

    directions: np.ndarray  # (L, 3)
    intensities: np.ndarray  # (L,)
    sky: float
    ground: float

    def shade(self, geometry: Geometry) -> Geometry:
        """The geometry with its colours lit (normals, positions and faces kept)."""
        normals = geometry.normals
        direct = np.clip(normals @ self.directions.T, 0.0, None) @ self.intensities
        ambient = self.ground + (self.sky - self.ground) * (0.5 + 0.5 * normals[:, 1])
        albedo = geometry.colours[:, :3] ** GAMMA
        lit = np.clip(albedo * (ambient + direct)[:, None], 0.0, 1.0) ** (1 / GAMMA)
        colours = np.column_stack([lit, geometry.colours[:, 3]]).astype(np.float32)
        return replace(geometry, colours=colours)


def lighting_for_view(view: np.ndarray, settings: RenderSettings) -> Lighting:
    """Lights placed relative to `view`, the unit vector from the subject to the camera:
    a key light above and to the camera's left, a low fill light to its right."""
    heading = np.arctan2(view[0], view[2])
    directions = np.stack(
        [
            _direction(heading + _KEY_TURN, _KEY_RISE),
            _direction(heading + _FILL_TURN, _FILL_RISE),
        ]
    )
    return Lighting(
        directions,
        np.array([settings.key_light, settings.fill_light]),
        sky=settings.ambient_light,
        ground=settings.ambient_light / 2,
    )


def _direction(heading: float, rise: float) -> np.ndarray:
    return np.array([np.cos(rise) * np.sin(heading), np.sin(rise), np.cos(rise) * np.cos(heading)])
