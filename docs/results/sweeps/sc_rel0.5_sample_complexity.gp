# Made by modnet (modnet/analysis/plot.cpp); a self-contained gnuplot script, data inline.
# Remake the figure with:  cd <this directory> && gnuplot <this file>
# or write it elsewhere:   gnuplot -e "outfile='other.png'" <this file>
if (!exists("outfile")) outfile = 'sc_rel0.5_sample_complexity.png'
set encoding utf8
set terminal pngcairo noenhanced size 560,420 font ',10'
set output outfile
$s0_0 << EOD
2 717.2957172156848
2 1613.9987747040611
2 398.56628903991526
3 1110.945752865358
3 693.3442059466471
3 1020.4224242073838
4 410.0201668870361
4 2699.552417274472
4 2193.8385651332514
5 907.0781893787843
5 1192.3538791155931
5 752.1469608694152
EOD
$s0_1 << EOD
2 717.2957172156848
3 1020.4224242073838
4 2193.8385651332514
5 907.0781893787843
EOD
$s0_2 << EOD
2 1286.4962138376484
2 4385.536557508685
2 360.653705462472
3 3044.119498910064
3 1666.3809657821603
3 2284.769121405388
4 445.0402543175737
4 3960.7583574243413
4 4302.271898630281
5 2476.166190135455
5 3022.383150173429
5 1447.6993393243642
EOD
$s0_3 << EOD
2 1286.4962138376484
3 2284.769121405388
4 3960.7583574243413
5 2476.166190135455
EOD
$s0_4 << EOD
2 1546.300645455003
2 7223.857529620366
2 450.7383700892345
3 2518.4336036069217
3 1685.0949646152521
3 2745.237562935248
4 405.2642993663459
4 4930.711844152179
4 4264.444769183339
5 2379.671604710313
5 3395.5777903850944
5 1355.5370199879999
EOD
$s0_5 << EOD
2 1546.300645455003
3 2518.4336036069217
4 4264.444769183339
5 2379.671604710313
EOD

# ---- panel 0 ----
set title 'sample complexity'
set xlabel 'task.module_dim'
set ylabel 'samples to reach the threshold'
unset label 1
set autoscale xy
unset logscale
set grid xtics ytics lt 1 lw 1 lc rgb '#e0e0e0'
set key top right samplen 2
set logscale y
plot $s0_0 using 1:2 with points lw 1.5 dt 1 lc rgb '#661f77b4' pt 7 ps 0.5249999999999999 notitle, \
     $s0_1 using 1:2 with linespoints lw 2 dt 1 lc rgb '#001f77b4' pt 7 ps 0.7 title 'kernel_modular (median)', \
     $s0_2 using 1:2 with points lw 1.5 dt 1 lc rgb '#66d62728' pt 7 ps 0.5249999999999999 notitle, \
     $s0_3 using 1:2 with linespoints lw 2 dt 1 lc rgb '#00d62728' pt 7 ps 0.7 title 'modular (median)', \
     $s0_4 using 1:2 with points lw 1.5 dt 1 lc rgb '#662ca02c' pt 7 ps 0.5249999999999999 notitle, \
     $s0_5 using 1:2 with linespoints lw 2 dt 1 lc rgb '#002ca02c' pt 7 ps 0.7 title 'monolithic (median)'
set output
