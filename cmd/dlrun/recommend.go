package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/dlrun/dlrun/run"
	"github.com/pkg/errors"
	"github.com/spf13/cobra"
)

func newRecommendCmd() *cobra.Command {
	var dir, data string
	var user, similar, top int
	var asJSON, best bool
	cmd := &cobra.Command{
		Use:   "recommend --run DIR (--user ID | --similar MOVIEID)",
		Short: "Recommend movies to a user, or find similar movies, with a trained recommender",
		Long: `Load a trained recommender (mf, ncf, biases or a rating model file) from its
run folder, with the ratings it was trained on (checked against the SHA-256 in
its config.json), and either

  --user ID         list the user's top movies among those they have not rated
                    (in the training or the test split), by predicted rating;
  --similar MOVIEID list the movies whose learned embeddings are nearest to
                    the movie's by cosine similarity (models with movie
                    embeddings: mf, ncf), leaving out the movie itself and
                    movies without training ratings.

Ids are the dataset's own (MovieLens's userId and movieId). Ties are broken by
movie id.`,
		Example: `  dlrun train --model mf --out runs/mf
  dlrun recommend --run runs/mf --user 1
  dlrun recommend --run runs/mf --similar 1 --top 5 --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			byUser, bySimilar := cmd.Flags().Changed("user"), cmd.Flags().Changed("similar")
			switch {
			case dir == "":
				return errors.New("--run: name the run folder of a trained recommender")
			case byUser && bySimilar:
				return errors.New("--user and --similar: give one, not both")
			case !byUser && !bySimilar:
				return errors.New("give --user ID (the user's top unrated movies) or --similar MOVIEID (the nearest movies)")
			case top < 1:
				return errors.Errorf("--top %d: must be positive", top)
			}
			opened, err := run.Open(dir, best)
			if err != nil {
				return atFlag("run", err)
			}
			defer opened.Close()
			r, err := opened.Recommender(data)
			if err != nil {
				if data != "" {
					return atFlag("data", err)
				}
				return atFlag("run", err)
			}
			out := cmd.OutOrStdout()
			if byUser {
				recs, err := r.Recommend(user, top)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(out, recs)
				}
				rows := make([]movieRow, len(recs))
				for i, x := range recs {
					rows[i] = movieRow{x.MovieInfo, fmt.Sprintf("%.2f", x.PredictedRating)}
				}
				printMovies(out, "predicted", rows)
				return nil
			}
			sims, err := r.Similar(similar, top)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(out, sims)
			}
			rows := make([]movieRow, len(sims))
			for i, x := range sims {
				rows[i] = movieRow{x.MovieInfo, fmt.Sprintf("%.3f", x.Similarity)}
			}
			printMovies(out, "similarity", rows)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "run", "", "run folder of a trained recommender")
	f.IntVar(&user, "user", 0, "recommend to this user (original user id)")
	f.IntVar(&similar, "similar", 0, "list the movies nearest to this movie (original movie id)")
	f.IntVar(&top, "top", 10, "movies to list")
	f.BoolVar(&asJSON, "json", false, "print the movies as a JSON array")
	f.BoolVar(&best, "best", false, "use the best epoch's weights instead of the last")
	runDataFlag(f, &data)
	return cmd
}

// movieRow is a line of recommend's table: a movie and its score,
// formatted.
type movieRow struct {
	run.MovieInfo
	score string
}

// printMovies prints a header line, then one line per movie: rank, movie
// id, score (under the heading score), title and genres joined with |.
func printMovies(w io.Writer, score string, rows []movieRow) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "rank\tmovie_id\t%s\ttitle\tgenres\n", score)
	for i, r := range rows {
		genres := strings.Join(r.Genres, "|")
		if genres == "" {
			genres = "-"
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\n", i+1, r.ID, r.score, r.Title, genres)
	}
	tw.Flush()
}

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
