// Package video reads video with Debian's ffmpeg and ffprobe, run as child
// processes, and finds the shots in it.
//
// Decoding: Probe reads a file's first video stream (size, frame rate,
// duration); Open starts ffmpeg on a file or a pipe and hands back small RGB
// frames, scaled by ffmpeg, each with the presentation time the file gives
// it (variable frame rate included). Frames come through a pipe of one
// frame at a time, so memory stays flat however long the video, and the
// child process is killed when the context is cancelled or the Decoder
// closed. Hostile input (an empty, corrupt or non-video file, a stream too
// large to decode, a pipe that never ends) gives one line of error, or
// stops at Options.MaxDuration.
//
// Shots: ContentDetector is PySceneDetect's ContentDetector (HSV content
// difference between consecutive frames, threshold 27, its minimum scene
// length and flash filter); Scenes turns cut frames into a scene list, which
// WriteCSV (PySceneDetect's scene-list CSV), WriteJSON and WriteEDL (CMX
// 3600) write, Split cuts into one file per scene, ContactSheet draws as a
// PNG, and Summary joins into a short edit of the shots that differ most.
package video
