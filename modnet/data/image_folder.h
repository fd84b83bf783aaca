#pragma once
// Reader of image folders root/<split>/<class>/<file> into an ImageSet, with OpenCV. The only unit
// of modnet that uses OpenCV: without it (MODNET_WITH_OPENCV=OFF) these functions throw DataError
// and image_folder_supported() is false. Part of modnet/data/images.h.
#include <string>

#include "modnet/data/images.h"

namespace modnet::data {

/// Whether modnet was built with OpenCV, i.e. whether load_image_folder can read anything.
bool image_folder_supported();

/// Image folder root/<split>/<class>/<file> (split "train" or "test"): classes are the sorted
/// sub-folder names, files read in sorted order with OpenCV, converted to RGB (or kept grey when
/// every image is single-channel). All images must have the same size. Throws DataError when
/// built without OpenCV.
ImageSet load_image_folder(const std::string& root, ImageSplit split);

/// The shape load_image_folder would return, from the listing of the class folders (the same
/// DataErrors for a missing split folder, no class or an empty class) and the first image alone:
/// its size, and its channels (1 when grey: a folder whose later images are in colour loads as 3).
/// Throws DataError when built without OpenCV.
ImageShape probe_image_folder(const std::string& root, ImageSplit split);

}  // namespace modnet::data
